"""The original's ``flowdapt.builtins`` package: helpers that plugin stage code imports.

The public path is :mod:`flowdapt.builtins.utils`; nothing is imported here, so that importing the
package does not pull in pandas.
"""
