"""`confab`: the one entry point for every process and for operators."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confab import logs
from confab.settings import Settings, load_settings

Command = Callable[[Settings, argparse.Namespace], int]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="confab", description="Confab chat service")
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("api", help="serve the HTTP/websocket API and the web page")
    sub.add_parser("relay", help="publish the event log to NATS JetStream")
    sub.add_parser("worker", help="run an inference worker")
    sub.add_parser("projector", help="keep the PostgreSQL read models up to date")
    up = sub.add_parser("up", help="run relay, projector, workers and API together (foreground)")
    up.add_argument("--workers", type=int, default=1, help="inference worker processes")
    up.add_argument("--api", type=int, default=1, help="API processes (more than 1: behind nginx)")
    up.add_argument("--nginx", action="store_true", help="put nginx in front even of one API")
    sub.add_parser("init", help="create the database objects, built-in bots and the NATS stream")
    sub.add_parser("check", help="check that PostgreSQL and NATS answer")
    model = sub.add_parser("model", help="model files")
    model.add_argument("action", choices=["prepare"])
    user = sub.add_parser("user", help="accounts")
    user.add_argument("action", choices=["add"])
    user.add_argument("email")
    user.add_argument("--name", default="")
    user.add_argument("--password-stdin", action="store_true")
    user.add_argument("--admin", action="store_true")
    token = sub.add_parser("token", help="API tokens")
    token.add_argument("action", choices=["create"])
    token.add_argument("email")
    token.add_argument("--name", default="cli")
    admin = sub.add_parser("admin", help="roles")
    admin.add_argument("action", choices=["grant", "revoke"])
    admin.add_argument("email")
    replay = sub.add_parser("replay", help="rebuild views from the event log, or --check them")
    replay.add_argument("view", nargs="?", choices=["search", "read-models", "all"], default="all")
    replay.add_argument("--check", action="store_true", help="compare a rebuild with the live view")
    replay.add_argument("--quiet", action="store_true", help="no progress bar")
    imports = sub.add_parser("import", help="import conversations from elsewhere")
    imports.add_argument("format", choices=["chatgpt", "sharegpt"])
    imports.add_argument("file", help="conversations.json or the export's .zip; a ShareGPT .json")
    imports.add_argument("--user", required=True, help="e-mail of the user they belong to")
    imports.add_argument("--dry-run", action="store_true", help="read and count; record nothing")
    imports.add_argument(
        "--allow-truncated", action="store_true", help="sharegpt: a file cut off at the end"
    )
    _add_dataset_parsers(sub)
    return root


def _add_dataset_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dataset = sub.add_parser("dataset", help="training datasets from the log")
    dataset.add_argument("action", choices=["build"])
    dataset.add_argument("--out", type=Path, default=None, help="default: data/datasets/log-N")
    dataset.add_argument("--until", default=None, help="a log position or an ISO time")
    dataset.add_argument("--only-liked", action="store_true")
    dataset.add_argument("--keep-disliked", action="store_true")
    dataset.add_argument("--min-chars", type=int, default=1, help="shortest response kept")
    dataset.add_argument("--no-dedup", action="store_true")
    dataset.add_argument("--no-imported", action="store_true")
    dataset.add_argument("--heldout-percent", type=int, default=10)
    dataset.add_argument("--shard-rows", type=int, default=10_000)
    train = sub.add_parser("train", help="fine-tune the serving model on a dataset (LoRA)")
    train.add_argument(
        "--dataset", type=Path, required=True, help="a `confab dataset build` folder"
    )
    train.add_argument("--steps", type=int, default=60)
    train.add_argument("--batch-size", type=int, default=4)
    train.add_argument("--lr", type=float, default=2e-4)
    train.add_argument("--lora-rank", type=int, default=8)
    train.add_argument("--max-len", type=int, default=512)
    train.add_argument("--checkpoint-every", type=int, default=20)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--min-gain", type=float, default=None, help="held-out loss gain to promote")
    train.add_argument("--sanity-tolerance", type=float, default=None)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = load_settings()
    logs.configure(settings.log_level, settings.log_format)
    try:
        return COMMANDS[args.command](settings, args)
    except KeyboardInterrupt:
        return 130


def _check(settings: Settings, _: argparse.Namespace) -> int:
    from ops.checks import missing_services

    problems = missing_services(settings.conninfo("postgres"), settings.nats_url)
    for problem in problems:
        print(f"confab: {problem}", file=sys.stderr)
    if not problems:
        print("PostgreSQL and NATS answer.")
    return 1 if problems else 0


def _init(settings: Settings, args: argparse.Namespace) -> int:
    if _check(settings, args):
        return 1
    from confab import bootstrap

    bootstrap.ensure_database(settings)

    async def stream() -> None:
        nc, _ = await bootstrap.connect_nats(settings, "confab-init")
        await nc.close()

    asyncio.run(stream())
    print(f"database {settings.db_name} and stream ready")
    return 0


def _model(settings: Settings, _: argparse.Namespace) -> int:
    from workers.engine import model_files

    started = time.perf_counter()
    path = model_files.prepare(settings.model_path)
    print(f"model ready at {path} ({time.perf_counter() - started:.1f}s)")
    return 0


def _process(name: str) -> Command:
    def run(settings: Settings, _: argparse.Namespace) -> int:
        from confab import bootstrap, processes

        bootstrap.ensure_database(settings)
        asyncio.run(getattr(processes, f"run_{name}")(settings))
        return 0

    return run


def _up(settings: Settings, args: argparse.Namespace) -> int:
    if args.api < 1 or args.workers < 0:
        print("confab: --api must be at least 1 and --workers at least 0", file=sys.stderr)
        return 2
    if _init(settings, args):
        return 1
    _model(settings, args)
    from ops.stack import run_stack

    try:
        children = _stack_children(settings, args.api, args.workers, args.nginx or args.api > 1)
    except FileNotFoundError as exc:
        print(f"confab: {exc}", file=sys.stderr)
        return 1
    url = f"http://{settings.api_host}:{settings.api_port}"
    print(f"Confab: starting on {url}", flush=True)
    return run_stack(children, settings.data_dir / "run" / "stack.json", url)


def _stack_children(settings: Settings, apis: int, workers: int, nginx: bool) -> list[Any]:
    """The processes of `confab up`: behind nginx, the APIs listen on the ports after its own."""
    from ops.nginx import write_nginx_config
    from ops.stack import Child

    me = [sys.executable, "-m", "confab"]
    health = settings.health_port or 9100
    children = [
        Child("relay", [*me, "relay"], {"CONFAB_HEALTH_PORT": str(health)}, health),
        Child("projector", [*me, "projector"], {"CONFAB_HEALTH_PORT": str(health + 1)}, health + 1),
    ]
    for n in range(workers):
        port = health + 2 + n
        children.append(
            Child(f"worker-{n + 1}", [*me, "worker"], {"CONFAB_HEALTH_PORT": str(port)}, port)
        )
    if not nginx:
        return [*children, Child("api", [*me, "api"], {}, settings.api_port)]
    api_ports = [settings.api_port + 1 + n for n in range(apis)]
    for n, port in enumerate(api_ports):
        children.append(Child(f"api-{n + 1}", [*me, "api"], {"CONFAB_PORT": str(port)}, port))
    prefix = settings.data_dir / "run" / "nginx"
    argv = write_nginx_config(settings.api_host, settings.api_port, api_ports, prefix)
    return [*children, Child("nginx", argv, {}, settings.api_port)]


def _operator_action(settings: Settings, args: argparse.Namespace) -> int:
    from commands import accounts
    from confab import bootstrap
    from domain.errors import DomainError

    bootstrap.ensure_database(settings)
    store = bootstrap.build_store(settings)
    try:
        if args.command == "user":
            password = (
                sys.stdin.readline().rstrip("\n")
                if args.password_stdin
                else getpass.getpass("Password: ")
            )
            name = args.name or args.email.split("@")[0]
            role = "admin" if args.admin else "user"
            user = accounts.register(store, args.email, password, name, role)
            print(f"user {user.email} added ({role}, id {user.id})")
        elif args.command == "token":
            user = accounts.user_by_email(store, args.email)
            print(accounts.create_token(store, user.id, args.name).token)
        else:
            role = "admin" if args.action == "grant" else "user"
            user = accounts.grant_role(store, args.email, role, by="operator")
            print(f"{user.email} is now {user.role}")
    except DomainError as exc:
        print(f"confab: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    from confab import replaying

    return replaying.run(settings, args)


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from confab.importing import import_file

    return import_file(
        settings, args.format, Path(args.file), args.user, args.dry_run, args.allow_truncated
    )


def _dataset(settings: Settings, args: argparse.Namespace) -> int:
    from confab import bootstrap
    from projections.datasets import Filters
    from workers.dataset_build import Until, build

    try:
        until = Until.parse(args.until)
    except ValueError as exc:
        print(f"confab: {exc}", file=sys.stderr)
        return 2
    filters = Filters(
        only_liked=args.only_liked,
        drop_disliked=not args.keep_disliked,
        min_response_chars=args.min_chars,
        deduplicate=not args.no_dedup,
        include_imported=not args.no_imported,
        heldout_percent=args.heldout_percent,
        max_history_turns=settings.max_history_turns,
    )
    bootstrap.ensure_database(settings)
    store = bootstrap.build_store(settings)
    try:
        folder, manifest = build(
            store, args.out, settings.data_dir, filters, until, shard_rows=args.shard_rows
        )
    finally:
        store.close()
    counts = manifest["counts"]
    print(
        f"dataset at {folder}: {counts['examples']} examples "
        f"({counts['train']} train, {counts['heldout']} held out), "
        f"log positions {manifest['positions']['from']}..{manifest['positions']['until']}"
    )
    return 0


def _train(settings: Settings, args: argparse.Namespace) -> int:
    from confab import bootstrap
    from domain.errors import DomainError
    from domain.model_version import PromotionGate
    from workers.training.loop import TrainConfig
    from workers.training.run import run_training

    config = TrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        lora_rank=args.lora_rank,
        lora_alpha=2 * args.lora_rank,
        max_len=args.max_len,
        checkpoint_every=args.checkpoint_every,
        seed=args.seed,
    )
    gate = PromotionGate(
        min_gain=settings.promote_min_gain if args.min_gain is None else args.min_gain,
        sanity_tolerance=(
            settings.sanity_tolerance if args.sanity_tolerance is None else args.sanity_tolerance
        ),
    )
    bootstrap.ensure_database(settings)
    store = bootstrap.build_store(settings)
    try:
        outcome = run_training(
            store, settings.data_dir, settings.model_path, args.dataset, config, gate
        )
    except (DomainError, FileNotFoundError) as exc:
        print(f"confab: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1
    finally:
        store.close()
    m = outcome.metrics
    print(
        f"{outcome.version}: held-out loss {m.heldout_loss_before:.4f} -> "
        f"{m.heldout_loss_after:.4f}, sanity loss {m.sanity_loss_before:.4f} -> "
        f"{m.sanity_loss_after:.4f}"
    )
    print("promoted" if outcome.promoted else f"not promoted: {outcome.reason}")
    return 0


COMMANDS: dict[str, Command] = {
    "api": _process("api"),
    "relay": _process("relay"),
    "worker": _process("worker"),
    "projector": _process("projector"),
    "up": _up,
    "init": _init,
    "check": _check,
    "model": _model,
    "user": _operator_action,
    "token": _operator_action,
    "admin": _operator_action,
    "replay": _replay,
    "import": _import,
    "dataset": _dataset,
    "train": _train,
}
