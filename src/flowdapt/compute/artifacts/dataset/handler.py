"""The dataset handler registry at the original's path; the real home is
:mod:`flowdapt.objects.dataset_handlers`."""

from flowdapt.objects.dataset_handlers import get_handler_func, register_handler

__all__ = ["get_handler_func", "register_handler"]
