"""``logs``: print a run's log, or follow it while the run is live."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from flowctl.cli.session import handled, open_client, say

PAGE = 1_000


def format_line(line: dict[str, Any]) -> str:
    """``time level stage[item] message``; continuation lines (a traceback) indented below."""
    stage = line.get("stage") or "-"
    if line.get("item") is not None:
        stage += f"[{line['item']}]"
    time = str(line.get("time", ""))[11:23]  # HH:MM:SS.mmm of the ISO timestamp
    head = f"{time} {line.get('level', ''):<7} {stage:<16}"
    message = str(line.get("message", "")).replace("\n", "\n" + " " * (len(head) + 1))
    return f"{head} {message}"


def logs(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(help="The run's name or uid.")],
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines until the run ends.")
    ] = False,
    stage: Annotated[str | None, typer.Option(help="Only this stage's lines.")] = None,
) -> None:
    """Print what a run's stages logged and printed (with --follow, as it happens)."""
    with handled(), open_client(ctx) as client:
        last, truncated, offset = -1, False, 0
        while True:  # what is stored already, page by page
            page = client.run_log(run, stage=stage, offset=offset, limit=PAGE)
            for line in page["lines"]:
                print(format_line(line))
                last = int(line["seq"])
            offset += len(page["lines"])
            truncated = bool(page.get("truncated"))
            if not page["lines"] or offset >= int(page["total"]):
                break
        if follow:
            for item in client.follow_run_log(run, stage=stage, after=last):
                if "end" in item:
                    say(f"run {run} {item['end']}")
                    break
                print(format_line(item), flush=True)
        elif truncated:
            say("(the log was capped: see its last line)")
