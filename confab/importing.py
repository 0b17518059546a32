"""`confab import chatgpt|sharegpt FILE --user EMAIL`: history from elsewhere, with progress.

The whole file is read and checked before anything is recorded, so a bad file records nothing.
Interrupting it is safe: what was saved stays, and running it again records only the rest.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from commands import accounts
from commands.chatgpt_export import load_export
from commands.imports import Advance, Export, ImportReport, import_export
from commands.sharegpt_export import load_sharegpt
from confab import bootstrap
from confab.settings import Settings
from domain.errors import DomainError


def import_file(
    settings: Settings,
    kind: str,
    path: Path,
    email: str,
    dry_run: bool = False,
    allow_truncated: bool = False,
) -> int:
    """Import a `chatgpt` export or a `sharegpt` file for the user with this e-mail address."""
    try:
        export = load_sharegpt(path, allow_truncated) if kind == "sharegpt" else load_export(path)
    except DomainError as exc:
        print(f"confab: {exc.message}", file=sys.stderr)
        return 1
    print(_summary(export))
    if dry_run:
        return 0
    bootstrap.ensure_database(settings)
    store = bootstrap.build_store(settings)
    try:
        user = accounts.user_by_email(store, email)
        started = time.perf_counter()
        report = _with_progress_bar(
            export, lambda advance: import_export(store, user.id, export, advance)
        )
    except DomainError as exc:
        print(f"confab: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(_outcome(report, time.perf_counter() - started))
    return 0


def _with_progress_bar(export: Export, run: Callable[[Advance], ImportReport]) -> ImportReport:
    columns = (
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("messages"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("import", total=export.turn_count)
        return run(lambda n: bar.advance(task, n))


def _summary(export: Export) -> str:
    skipped = ", ".join(f"{n} {what}" for what, n in sorted(export.skipped.items()))
    return f"{len(export.conversations)} conversations, {export.turn_count} messages to import" + (
        f"; skipped {skipped}" if skipped else ""
    )


def _outcome(report: ImportReport, seconds: float) -> str:
    rate = report.events_recorded / seconds if seconds > 0 else 0.0
    return (
        f"{report.conversations_added} conversations added, "
        f"{report.conversations_extended} extended, {report.conversations_unchanged} already here"
        + (
            f", {report.conversations_deleted_here} deleted here (left deleted)"
            if report.conversations_deleted_here
            else ""
        )
        + f"; {report.turns_recorded} messages, {report.events_recorded} events"
        f" in {seconds:.1f}s ({rate:.0f} events/s)"
    )
