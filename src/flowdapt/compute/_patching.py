"""Patching a name at the original's import path patches it in the real home too.

The original's tests (and plugin tests modelled on them) patch, for example,
``flowdapt.compute.artifacts._get_values_from_context`` or
``flowdapt.compute.object_store.put_in_cluster_memory``. A plain re-export would only rebind
the name in the re-exporting module while the real functions keep calling the home's; this
module class forwards such assignments (and their undoing) to the home module.

    forward_patches(__name__, flowdapt.objects.artifacts)
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _ForwardingModule(types.ModuleType):
    _flowdapt_home: types.ModuleType

    def __setattr__(self, name: str, value: Any) -> None:
        home = self.__dict__.get("_flowdapt_home")
        if home is not None and name in home.__dict__ and name in self.__dict__:
            setattr(home, name, value)
        super().__setattr__(name, value)


def forward_patches(module_name: str, home: types.ModuleType) -> None:
    """Make assignments to `module_name`'s names that `home` also defines reach `home`."""
    module = sys.modules[module_name]
    module.__class__ = _ForwardingModule
    module.__dict__["_flowdapt_home"] = home
