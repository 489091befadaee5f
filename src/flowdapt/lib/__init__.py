"""The original Flowdapt's ``flowdapt.lib`` import paths, kept as thin re-exports."""
