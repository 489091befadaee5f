"""The original's ``flowdapt.lib.database`` package; storage lives in `flowdapt.storage`."""
