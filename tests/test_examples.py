"""The example that `make run` shows works and prints forecasts."""

from __future__ import annotations

from flowdapt.examples import hello


async def test_example_nowcast_runs_and_prints_forecasts(capsys):
    await hello.main()
    out = capsys.readouterr().out
    assert "run " in out and ": finished" in out
    for stage in ("create_city_list", "fetch_city_data", "forecast", "summarise"):
        assert stage in out
    assert "(6/6)" in out
    for city in ("Oslo", "Lisbon", "Nairobi", "Denver", "Osaka", "Santiago"):
        assert city in out
