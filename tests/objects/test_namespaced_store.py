"""The store behind the local cluster memory and the Ray actor, and its compare-and-swap."""

from __future__ import annotations

import pytest

from flowdapt.objects.local_memory_server import NamespacedStore


def test_replace_swaps_only_the_value_it_was_given():
    store, first, second = NamespacedStore(), object(), object()
    store.put("ns", "key", first)
    assert store.replace("ns", "key", first, second)
    assert store.get("ns", "key") is second
    # A copy that finishes after the key was put again must not bring back the older value.
    assert not store.replace("ns", "key", first, object())
    assert store.get("ns", "key") is second


def test_replace_with_none_removes_the_key_and_its_empty_namespace():
    store, value = NamespacedStore(), object()
    store.put("ns", "key", value)
    assert store.replace("ns", "key", value, None)
    with pytest.raises(KeyError):
        store.get("ns", "key")
    assert not store.exists("ns", "key")
    assert not store.replace("ns", "key", value, None)  # deleted meanwhile: nothing to do
