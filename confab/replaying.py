"""`confab replay`: rebuild the search view and the read models from the log, or check them."""

from __future__ import annotations

import argparse
import asyncio
import sys

from confab import bootstrap
from confab.settings import Settings
from workers.replay import LogReader, Outcome, replay_read_models, replay_search

VIEWS = ("search", "read-models")


def run(settings: Settings, args: argparse.Namespace) -> int:
    bootstrap.ensure_database(settings)
    views = VIEWS if args.view == "all" else (args.view,)
    outcomes = asyncio.run(_replay(settings, views, args.check, args.quiet))
    for outcome in outcomes:
        verb = "checked" if args.check else "rebuilt and switched at"
        print(
            f"{outcome.view}: {outcome.events} events in {outcome.seconds:.1f}s"
            f" ({outcome.rate:,.0f} events/s), {verb} position {outcome.position}"
        )
        for difference in outcome.differences:
            print(f"  DIFFERS {difference}", file=sys.stderr)
    return 1 if any(o.differences for o in outcomes) else 0


async def _replay(
    settings: Settings, views: tuple[str, ...], check: bool, quiet: bool
) -> list[Outcome]:
    store = bootstrap.build_store(settings, threads=2)
    reader = LogReader(store)
    outcomes = []
    try:
        if "read-models" in views:
            outcomes.append(await replay_read_models(settings.conninfo(), reader, check, quiet))
        if "search" in views:
            view = bootstrap.build_search_view(settings, size=2)
            await view.open()
            try:
                outcomes.append(await replay_search(view, reader, check, quiet))
            finally:
                await view.close()
    finally:
        store.close()
    return outcomes
