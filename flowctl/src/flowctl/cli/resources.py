"""``apply``, ``get``, ``inspect`` and ``delete``: resources, runs and plugins."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from flowctl.cli.session import fail, handled, open_client, say
from flowctl.documents import Document, read_paths
from flowctl.errors import ApiError, NotFound
from flowctl.output import Format, print_data, print_items, print_json, stdout_is_terminal
from flowctl.resources import Kind, parse_kind

if TYPE_CHECKING:
    from flowctl.client import FlowdaptClient

RUN_WORDS: Final = {"run", "runs", "workflow_run", "workflow_runs"}
PLUGIN_WORDS: Final = {"plugin", "plugins"}
FIRING_WORDS: Final = {"firing", "firings"}
KIND_HELP: Final = (
    "workflows, configs, triggers, runs (of a workflow), run (by id), plugins, "
    "firings (of a trigger)"
)
OUTCOME_STYLES: Final = {"created": "green", "updated": "yellow", "unchanged": "dim"}

KindArg = Annotated[str, typer.Argument(help=KIND_HELP, show_default=False)]
FormatOpt = Annotated[Format, typer.Option("--format", "-o", help="Output format.")]
PathsOpt = Annotated[
    list[Path],
    typer.Option("--path", "-p", help="A YAML/JSON file or a directory (repeatable)."),
]
PluginsOpt = Annotated[
    list[str],
    typer.Option(
        "--plugin",
        help="A plugin installed on the server: apply the resource files it bundles (repeatable).",
    ),
]


def _word(kind: str) -> str:
    """Canonical target of a KIND argument, or a usage error (exit 2)."""
    word = kind.strip().lower().replace("-", "_")
    if word in RUN_WORDS or word in PLUGIN_WORDS or word in FIRING_WORDS:
        return word
    resource = parse_kind(word)
    if resource is None:
        raise typer.BadParameter(f"unknown kind {kind!r}; expected one of: {KIND_HELP}")
    return resource


def _all_runs(client: FlowdaptClient, workflow: str | None, limit: int | None) -> list[Any]:
    if workflow is not None and limit is not None:
        return client.list_runs(workflow, limit=limit)
    if workflow is not None:
        runs = client.list_all_runs(workflow)
    else:
        names = [wf["metadata"]["name"] for wf in client.list_all("workflow")]
        runs = [run for name in names for run in client.list_all_runs(name)]
    runs.sort(key=lambda run: str(run.get("started_at") or ""))
    return runs[-limit:] if limit else runs


def _fetch(client: FlowdaptClient, word: str, name: str) -> tuple[str, Any]:
    """One item: (table kind, object)."""
    if word in RUN_WORDS:
        return "run", client.get_run(name)
    if word in PLUGIN_WORDS:
        return "plugin", client.get_plugin(name)
    if word in FIRING_WORDS:
        raise typer.BadParameter("firings are listed per trigger: flowctl get firings TRIGGER")
    kind: Kind = parse_kind(word) or "workflow"
    return kind, client.get_resource(kind, name)


def get(
    ctx: typer.Context,
    kind: KindArg,
    name: Annotated[
        str | None, typer.Argument(help="A name or uid (for 'runs': the workflow).")
    ] = None,
    fmt: FormatOpt = Format.table,
    limit: Annotated[
        int | None, typer.Option(help="At most this many runs or firings (newest).")
    ] = None,
) -> None:
    """List resources of a kind, or show one by name."""
    word = _word(kind)
    with handled(), open_client(ctx) as client:
        if word == "runs" or (word in RUN_WORDS and name is None):
            print_items("run", _all_runs(client, name, limit), fmt)
        elif word in FIRING_WORDS:
            if name is None:
                raise typer.BadParameter("name the trigger: flowctl get firings TRIGGER")
            print_items("firing", client.list_firings(name, limit=limit), fmt)
        elif word in PLUGIN_WORDS and name is None:
            print_items("plugin", client.list_plugins(), fmt)
        elif name is None:
            resource_kind: Kind = parse_kind(word) or "workflow"
            print_items(resource_kind, client.list_all(resource_kind), fmt)
        else:
            table_kind, item = _fetch(client, word, name)
            if fmt is Format.table:
                print_items(table_kind, [item], fmt)
            else:
                print_data(item, fmt)


def inspect(
    ctx: typer.Context,
    kind: KindArg,
    name: Annotated[str, typer.Argument(help="A name or uid.")],
    fmt: FormatOpt = Format.yaml,
) -> None:
    """Show one resource, run or plugin in full (YAML by default)."""
    word = _word(kind)
    with handled(), open_client(ctx) as client:
        _, item = _fetch(client, word, name)
    print_data(item, fmt)


def _report(outcomes: list[dict[str, str]], fmt: Format) -> None:
    if fmt in (Format.json, Format.raw):
        print_json(outcomes)
        return
    for outcome in outcomes:
        label = f"{outcome['kind']}/{outcome['name']}"
        action = outcome["action"]
        if stdout_is_terminal():
            from rich.console import Console

            Console().print(f"{label} [{OUTCOME_STYLES.get(action, 'red')}]{action}[/]")
        else:
            print(f"{label} {action}")


def _plugin_documents(client: FlowdaptClient, names: list[str]) -> list[Document]:
    from flowctl.plugins import plugin_resources

    documents: list[Document] = []
    for name in names:
        bundle = plugin_resources(client, name)
        if bundle.problem:
            say(f"warning: plugin {name!r} is {bundle.problem}")
        for file in bundle.skipped:
            say(f"plugin {name}: skipped {file} (not a resource file)")
        say(f"plugin {name}: {len(bundle.documents)} resources from {', '.join(bundle.files)}")
        documents.extend(bundle.documents)
    return documents


def apply(
    ctx: typer.Context,
    paths: PathsOpt = [],  # noqa: B006 - typer needs a literal default
    plugins: PluginsOpt = [],  # noqa: B006 - typer needs a literal default
    fmt: FormatOpt = Format.table,
) -> None:
    """Create or update the resources in files/directories, or those a plugin installed on the
    server bundles (--plugin NAME); report each one's outcome.

    Every file is read and checked before anything is sent: a malformed file applies nothing.
    """
    if not paths and not plugins:
        raise typer.BadParameter("give --path FILE|DIR or --plugin NAME")
    with handled():
        documents = read_paths(paths)
        if paths and not documents:
            fail("error: no resources found in " + ", ".join(map(str, paths)))
        outcomes: list[dict[str, str]] = []
        with open_client(ctx) as client:
            documents += _plugin_documents(client, plugins)
            for doc in documents:
                try:
                    action: str = client.apply(doc.body)
                except ApiError as exc:
                    say(f"error: {doc.kind}/{doc.name} ({doc.source}): {exc}")
                    action = "failed"
                outcomes.append({"kind": doc.kind, "name": doc.name, "action": action})
        _report(outcomes, fmt)
        if any(outcome["action"] == "failed" for outcome in outcomes):
            raise typer.Exit(1)


def _delete_one(client: FlowdaptClient, word: str, name: str) -> str:
    if word in RUN_WORDS:
        client.delete_run(name)
        return f"run/{name} deleted"
    if word in PLUGIN_WORDS:
        raise typer.BadParameter("plugins cannot be deleted through the API")
    if word in FIRING_WORDS:
        raise typer.BadParameter("firings are a trigger's history; they cannot be deleted")
    kind: Kind = parse_kind(word) or "workflow"
    deleted = client.delete_resource(kind, name)
    return f"{kind}/{deleted.get('metadata', {}).get('name', name)} deleted"


def _delete_documents(client: FlowdaptClient, documents: list[Document], quiet: bool) -> int:
    """Delete what the documents name (last first); returns the number of failures."""
    failures = 0
    for doc in reversed(documents):
        try:
            client.delete_resource(doc.kind, doc.name)
            print(f"{doc.kind}/{doc.name} deleted")
        except NotFound:
            if not quiet:
                say(f"error: {doc.kind}/{doc.name} not found")
                failures += 1
        except ApiError as exc:
            say(f"error: {doc.kind}/{doc.name}: {exc}")
            failures += 1
    return failures


def delete(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Argument(help=KIND_HELP, show_default=False)] = None,
    name: Annotated[str | None, typer.Argument(help="A name or uid.")] = None,
    paths: PathsOpt = [],  # noqa: B006 - typer needs a literal default
    ignore_not_found: Annotated[
        bool, typer.Option("--ignore-not-found", help="A missing resource is not an error.")
    ] = False,
) -> None:
    """Delete one resource or run by name (delete KIND NAME), or those in files (-p PATH)."""
    if paths and (kind or name):
        raise typer.BadParameter("give either KIND NAME or --path, not both")
    if not paths and not (kind and name):
        raise typer.BadParameter("give KIND NAME, or --path FILE|DIR")
    with handled():
        if paths:
            documents = read_paths(paths)
            with open_client(ctx) as client:
                failures = _delete_documents(client, documents, ignore_not_found)
            if failures:
                raise typer.Exit(1)
            return
        word = _word(kind or "")
        name = name or ""
        with open_client(ctx) as client:
            try:
                print(_delete_one(client, word, name))
            except NotFound:
                if not ignore_not_found:
                    fail(f"error: {word} {name!r} not found")
