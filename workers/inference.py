"""The inference worker: turns ResponseRequested events into ResponseCompleted (or Failed).

It shares one durable pull consumer with every other worker, streams token deltas on core NATS,
keeps a long generation's message alive with progress acks, and acks only after the command
that records the outcome succeeded. The log, not the message, is the source of truth: a
redelivered request whose response already finished is acked and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from uuid import UUID

import msgspec
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import APIError, NotFoundError

from commands import handlers
from commands.blobs import BlobStore
from commands.bus import CommandBus
from commands.files import attachment_texts
from commands.messages import CompleteResponse, FailResponse, GenerationRequest
from commands.outages import STORE_UNAVAILABLE
from commands.prompts import PROMPT_HEADER, prompt_from
from commands.wire import EventEnvelope, Subjects, TokenDelta
from domain.conversation import TERMINAL, Completion
from domain.errors import DomainError, ResponseAlreadyFinished
from workers import metrics
from workers.attachments import with_attachments
from workers.engine.generator import ChatRequest, Generator
from workers.stops import StopMatcher
from workers.titles import write_title

log = logging.getLogger("confab.worker")

PROGRESS_EVERY_S = 5.0
CONSUMER_CHECK_EVERY_S = 5.0  # while idle: is the shared consumer still there?
RESUBSCRIBE_PAUSE_S = 1.0
STORE_RETRY_S = 3.0  # PostgreSQL unreachable: when the request is offered again
FRESH_PROMPT_S = 2.0  # a carried prompt older than this is read from the log again


def chat_messages(system_prompt: str, history: list[tuple[str, str]]) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return messages + [{"role": role, "content": text} for role, text in history]


class InferenceWorker:
    def __init__(
        self,
        bus: CommandBus,
        nc: NATS,
        js: JetStreamContext,
        subjects: Subjects,
        generator: Generator,
        *,
        max_history_turns: int,
        max_new_tokens: int,
        ack_wait_s: float,
        max_deliver: int,
        concurrency: int = 1,
        drain_grace_s: float = 20.0,
        titles: bool = False,
        blobs: BlobStore | None = None,
        attachment_context_tokens: int = 1500,
        model_version: str = "base",
        load_generator: Callable[[str], Generator] | None = None,
        ensure_stream: Callable[[JetStreamContext, Subjects], Awaitable[None]] | None = None,
    ) -> None:
        self.bus, self.nc, self.js, self.subjects = bus, nc, js, subjects
        self.generator = generator
        self.max_history_turns = max_history_turns
        self.max_new_tokens = max_new_tokens
        self.ack_wait_s = ack_wait_s
        self.max_deliver = max_deliver
        self.concurrency = concurrency
        self.drain_grace_s = drain_grace_s
        self.titles = titles  # name a new chat after its first reply
        self.titling: set[asyncio.Task[None]] = set()
        self.blobs = blobs
        self.attachment_context_tokens = attachment_context_tokens
        self.stopping = asyncio.Event()
        self.completed = 0
        self.in_flight: dict[asyncio.Task[None], Msg] = {}
        self.generating: dict[str, ChatRequest] = {}  # response id -> its running request
        self.model_version = model_version  # recorded on every response it writes
        self.load_generator = load_generator  # a promoted version's relative path -> Generator
        self.next_model: tuple[str, str] | None = None  # (version, path) promoted meanwhile
        self.ensure_stream = ensure_stream  # makes the stream again if the broker lost it

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        """The durable pull consumer every worker shares; made if missing."""
        return await self.js.pull_subscribe(
            self.subjects.event("Conversation", "ResponseRequested"),
            durable=self.subjects.inference_durable,
            stream=self.subjects.stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=self.ack_wait_s,
                max_deliver=self.max_deliver,
            ),
        )

    async def _still_subscribed(
        self, sub: JetStreamContext.PullSubscription
    ) -> JetStreamContext.PullSubscription:
        """`sub` if the shared consumer is still there (or the broker cannot say); else a new
        subscription. nats-py reports a deleted consumer to a pull only as a timeout."""
        try:
            await self.js.consumer_info(self.subjects.stream, self.subjects.inference_durable)
        except NotFoundError:
            return await self._resubscribe(sub)
        except (APIError, NatsTimeout, TimeoutError):
            pass
        return sub

    async def _resubscribe(
        self, sub: JetStreamContext.PullSubscription
    ) -> JetStreamContext.PullSubscription:
        """The stream or the consumer was deleted (the broker lost its data): subscribe again.
        Requests that were waiting in it are re-driven from the log by the sweeper."""
        log.error("the request consumer is gone; subscribing again")
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
        while not self.stopping.is_set():
            try:
                if self.ensure_stream is not None:
                    await self.ensure_stream(self.js, self.subjects)
                return await self._subscribe()
            except (APIError, NatsTimeout, TimeoutError):
                log.exception("subscribing again failed; retrying")
                await asyncio.sleep(RESUBSCRIBE_PAUSE_S)
        return sub

    async def run(self) -> None:
        sub = await self._subscribe()
        checked = time.monotonic()
        # A stop from the user is an event; the generation it names ends within a step or two.
        cancels = await self.nc.subscribe(
            self.subjects.event("Conversation", "ResponseCancelled"), cb=self._on_cancelled
        )
        promotions = await self.nc.subscribe(
            self.subjects.event("ModelRegistry", "ModelPromoted"), cb=self._on_promoted
        )
        log.info("worker waiting for requests (up to %d at once)", self.concurrency)
        while not self.stopping.is_set():
            if self.next_model is not None:
                await self._swap_model()
                continue
            room = self.concurrency - len(self.in_flight)
            if room <= 0:
                await self._wait_for_room()
                continue
            try:
                # One at a time: a fetch of a batch of n, once one message is in, waits for the
                # rest until its timeout (nats-py), which held a lone request up to a second.
                msgs = await sub.fetch(batch=1, timeout=1.0)
            except (NatsTimeout, TimeoutError):
                if time.monotonic() - checked > CONSUMER_CHECK_EVERY_S:
                    checked = time.monotonic()
                    sub = await self._still_subscribed(sub)
                continue
            except APIError:  # the consumer was deleted under the fetch
                await asyncio.sleep(RESUBSCRIBE_PAUSE_S)
                sub = await self._resubscribe(sub)
                continue
            for msg in msgs:
                if self.stopping.is_set():  # fetched while the stop came: not ours to start
                    await msg.nak()
                    continue
                task = asyncio.create_task(self.handle(msg))
                self.in_flight[task] = msg
                task.add_done_callback(self.in_flight.pop)
        await self._drain()
        with contextlib.suppress(Exception):  # gone already if the broker lost it
            await sub.unsubscribe()
        await cancels.unsubscribe()
        await promotions.unsubscribe()

    async def _on_promoted(self, msg: Msg) -> None:
        try:
            data = msgspec.json.decode(msg.data, type=EventEnvelope).data
            self.next_model = (str(data["version"]), str(data["path"]))
        except (msgspec.DecodeError, KeyError):
            log.warning("ignoring a malformed ModelPromoted message")

    async def _swap_model(self) -> None:
        """Drain (nothing new is fetched; what runs finishes), load the new weights, resume."""
        assert self.next_model is not None
        (version, path), self.next_model = self.next_model, None
        if self.load_generator is None or version == self.model_version:
            return
        log.info("model %s promoted: draining %d requests", version, len(self.in_flight))
        if self.in_flight or self.titling:
            await asyncio.wait([*self.in_flight, *self.titling])
        try:
            loaded = await asyncio.to_thread(self.load_generator, path)
        except Exception:
            log.exception("could not load model %s; still serving %s", version, self.model_version)
            return
        old, self.generator, self.model_version = self.generator, loaded, version
        await asyncio.to_thread(old.close)
        log.info("now serving model %s", version)

    async def _on_cancelled(self, msg: Msg) -> None:
        try:
            response_id = msgspec.json.decode(msg.data, type=EventEnvelope).data["response_id"]
        except (msgspec.DecodeError, KeyError):
            return
        running = self.generating.get(str(response_id))
        if running is not None:
            running.cancelled.set()

    async def _wait_for_room(self) -> None:
        stop = asyncio.create_task(self.stopping.wait())
        await asyncio.wait([stop, *self.in_flight], return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()

    async def _drain(self) -> None:
        """Nothing new is fetched; what is in hand finishes, or goes back after a grace period."""
        if self.in_flight:
            await self._hand_back()
        if self.titling:  # titles of the chats just answered: best effort, within the grace
            _, late = await asyncio.wait(list(self.titling), timeout=self.drain_grace_s)
            for task in late:
                task.cancel()

    async def _hand_back(self) -> None:
        log.info("draining %d requests in flight", len(self.in_flight))
        _, unfinished = await asyncio.wait(list(self.in_flight), timeout=self.drain_grace_s)
        for task in unfinished:
            msg = self.in_flight.get(task)
            task.cancel()
            if msg is not None:
                with contextlib.suppress(Exception):
                    await msg.nak()  # another worker takes it at once

    async def handle(self, msg: Msg) -> None:
        metrics.ACTIVE.inc()
        try:
            await self._handle(msg)
        finally:
            metrics.ACTIVE.dec()

    async def _handle(self, msg: Msg) -> None:
        try:
            envelope = msgspec.json.decode(msg.data, type=EventEnvelope)
            conversation_id = UUID(envelope.aggregate_id)
            response_id = UUID(envelope.data["response_id"])
        except (msgspec.DecodeError, KeyError, ValueError):
            log.exception("dropping a malformed ResponseRequested message")
            await msg.term()
            return
        try:
            await self._answer(msg, conversation_id, response_id)
        except DomainError as exc:
            log.warning("request %s refused: %s", response_id, exc.message)
            metrics.RESPONSES.labels("refused").inc()
            await msg.ack()
        except STORE_UNAVAILABLE as exc:
            # Not this request's fault: it goes back to the queue (or, past max_deliver, to the
            # sweeper, which re-drives it from the log) until PostgreSQL is back.
            metrics.ERRORS.inc()
            log.warning("answering %s waits for the database: %s", response_id, exc)
            await msg.nak(delay=STORE_RETRY_S)
        except Exception:
            metrics.ERRORS.inc()
            log.exception(
                "answering %s failed (delivery %d)", response_id, msg.metadata.num_delivered
            )
            if msg.metadata.num_delivered >= self.max_deliver:
                await self._fail(conversation_id, response_id, "the worker failed repeatedly")
                await msg.ack()
            else:
                await msg.nak(delay=1.0)

    async def _answer(self, msg: Msg, conversation_id: UUID, response_id: UUID) -> None:
        await msg.in_progress()  # restart the ack timer: the wait in our queue does not count
        request = self._carried_prompt(msg)
        if request is None:
            request = await self.bus.query(
                handlers.generation_request, conversation_id, response_id, self.max_history_turns
            )
        if request.status in TERMINAL:
            await msg.ack()  # a redelivery of finished work
            return
        sampling = request.sampling
        chat = ChatRequest(
            messages=chat_messages(request.system_prompt, await self._with_files(request)),
            # The operator's cap bounds what any bot or API client asks for.
            max_new_tokens=min(int(sampling.get("max_new_tokens", 256)), self.max_new_tokens),
            temperature=float(sampling.get("temperature", 0.0)),
            top_p=float(sampling.get("top_p", 1.0)),
            repetition_penalty=float(sampling.get("repetition_penalty", 1.0)),
        )
        stops = StopMatcher([str(s) for s in sampling.get("stop", [])])
        ids = {"request_id": str(response_id), "conversation_id": str(conversation_id)}
        log.info("answering", extra=ids)
        self.generating[str(response_id)] = chat
        try:
            completion = await self._generate(
                msg, chat, stops, str(conversation_id), str(response_id)
            )
        finally:
            self.generating.pop(str(response_id), None)
        completion = replace(
            completion, model_version=self.model_version, prompt_turn_ids=request.prompt_turn_ids
        )
        # If it was stopped, or another delivery finished it meanwhile, the first outcome stands.
        stored = False
        with contextlib.suppress(ResponseAlreadyFinished):
            await self.bus.complete_response(
                CompleteResponse(conversation_id, response_id, completion)
            )
            stored = True
        await msg.ack()
        self.completed += 1
        observe(completion, stored)
        log.info(
            "answered: %d tokens, first after %.0f ms",
            completion.completion_tokens,
            completion.ttft_ms,
            extra=ids,
        )
        if stored and self.titles and len(request.history) == 1 and completion.text:
            # Off the request's slot: a title is not a request, and holding the slot kept the
            # next users' requests waiting in JetStream while fifty new chats got their titles.
            task = asyncio.create_task(
                self._title(conversation_id, request.history[0][1], completion.text)
            )
            self.titling.add(task)
            task.add_done_callback(self.titling.discard)

    def _carried_prompt(self, msg: Msg) -> GenerationRequest | None:
        """The prompt the API sent with the request (commands/prompts.py), on a fresh first
        delivery only: a request redelivered, or one that waited in the stream, may have been
        answered or stopped since."""
        if not msg.headers or msg.metadata.num_delivered > 1:
            return None
        if time.time() - msg.metadata.timestamp.timestamp() > FRESH_PROMPT_S:
            return None
        return prompt_from(msg.headers.get(PROMPT_HEADER), self.max_history_turns)

    async def _with_files(self, request: GenerationRequest) -> list[tuple[str, str]]:
        """The history with attached documents' text in it (none without a blob store)."""
        ids = [str(f["id"]) for files in request.attachments for f in files]
        if not ids or self.blobs is None:
            return list(request.history)
        texts = await self.bus.call(attachment_texts, self.blobs, ids)
        return with_attachments(
            request.history, request.attachments, texts, self.attachment_context_tokens
        )

    async def _title(self, conversation_id: UUID, question: str, answer: str) -> None:
        """A title for a new chat; a failure here never touches the stored reply."""
        try:
            await write_title(
                self.generator,
                self.bus,
                conversation_id,
                question,
                answer,
                self.generator.model_name,
            )
        except Exception:
            log.exception("writing a title for %s failed", conversation_id)

    async def _generate(
        self,
        msg: Msg,
        chat: ChatRequest,
        stops: StopMatcher,
        conversation_id: str,
        response_id: str,
    ) -> Completion:
        subject = self.subjects.tokens(conversation_id, response_id)
        last_progress = time.monotonic()
        index = 0

        async def publish(text: str) -> None:
            nonlocal index
            if text:
                delta = TokenDelta(conversation_id, response_id, index, text)
                await self.nc.publish(subject, msgspec.json.encode(delta))
                index += 1

        try:
            async for item in self.generator.stream(chat):
                if isinstance(item, Completion):
                    await publish(stops.flush())
                    if stops.stopped:  # a stop sequence ended it, not the model or a cancel
                        return replace(item, text=stops.final_text.strip(), finish_reason="stop")
                    return item
                await publish(stops.feed(item))
                if stops.stopped:
                    chat.cancelled.set()
                if time.monotonic() - last_progress > PROGRESS_EVERY_S:
                    await msg.in_progress()
                    last_progress = time.monotonic()
        except Exception as exc:
            log.exception("generation failed for %s", response_id)
            await self._fail(UUID(conversation_id), UUID(response_id), f"generation failed: {exc}")
            raise DomainError("generation failed") from exc
        raise RuntimeError("the generator ended without a completion")

    async def _fail(self, conversation_id: UUID, response_id: UUID, reason: str) -> None:
        with contextlib.suppress(DomainError):
            await self.bus.fail_response(FailResponse(conversation_id, response_id, reason))


def observe(completion: Completion, stored: bool) -> None:
    """A finished generation in the metrics: latency, tokens, outcome."""
    metrics.RESPONSES.labels(completion.finish_reason if stored else "duplicate").inc()
    metrics.TOKENS.inc(completion.completion_tokens)
    if completion.completion_tokens:
        metrics.TTFT.observe(completion.ttft_ms / 1000)
    if completion.completion_tokens > 1:
        per_token = (completion.total_ms - completion.ttft_ms) / (completion.completion_tokens - 1)
        metrics.TOKEN_LATENCY.observe(per_token / 1000)
