"""The original's ``flowdapt.lib.database.storage`` package (see `flowdapt.storage`)."""
