"""Example workflows shipped with Flowdapt (``make run`` runs :mod:`flowdapt.examples.hello`)."""
