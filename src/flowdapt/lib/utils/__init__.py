"""The original's ``flowdapt.lib.utils`` package; its helpers are importable from
:mod:`flowdapt.lib.utils.misc`."""
