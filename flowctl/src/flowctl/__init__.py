"""flowctl: the Flowdapt client (SDK and command line)."""
