"""The in-flight limit to an LLM endpoint adapts: halved when the endpoint says it is
overloaded, grown back as replies come (issue 33, item 6)."""

import threading
from concurrent.futures import ThreadPoolExecutor

from fake_openai import FakeOpenAI

from curate.core.config import LLMOptions
from curate.stages.generators.inflight import AdaptiveLimit
from curate.stages.generators.llm_client import LLMClient, LLMEndpoint


def test_the_limit_halves_when_overloaded_and_grows_back_one_at_a_time():
    limit = AdaptiveLimit(8)
    limit.overloaded()
    limit.overloaded()
    assert limit.limit == 2
    for _ in range(2):
        limit.succeeded()
    assert limit.limit == 3  # one more after a limit's worth of replies
    for _ in range(100):
        limit.succeeded()
    assert limit.limit == 8  # never above the most it was given
    for _ in range(10):
        limit.overloaded()
    assert limit.limit == 1  # never below one


def test_the_gate_holds_at_most_limit_in_flight():
    gate, inside, most = AdaptiveLimit(3), [0], [0]
    lock = threading.Lock()
    release = threading.Event()

    def work(_):
        with gate:
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            release.wait(0.05)
            with lock:
                inside[0] -= 1

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(work, range(30)))
    assert most[0] == 3


def _client(fake, concurrency: int) -> LLMClient:
    llm = LLMOptions(
        base_url=fake.base_url, model="fake-model", concurrency=concurrency, max_retries=8
    )
    return LLMClient(llm, LLMEndpoint.configured(llm))


def _ask(client: LLMClient, i: int):
    messages = [{"role": "user", "content": f"question {i}"}]
    return client.complete_json("probe-v1", messages, {"type": "object"})


def test_an_endpoint_that_answers_429_above_its_capacity_gets_about_that_many():
    with FakeOpenAI() as fake:
        fake.latency_s, fake.overloaded_above = 0.1, 6
        client = _client(fake, 32)
        with ThreadPoolExecutor(32) as pool:
            replies = list(pool.map(lambda i: _ask(client, i), range(96)))
        assert len(replies) == 96  # every call got its reply, the 429s retried
        assert client._slots.limit <= 12  # settled near what the endpoint serves


def test_calls_that_waited_for_the_format_negotiation_go_out_together():
    """They were sent one by one while holding the negotiation lock: with 16 threads, at
    most 2 requests were ever in flight at the server."""
    with FakeOpenAI() as fake:
        fake.latency_s = 0.3
        client = _client(fake, 16)
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda i: _ask(client, i), range(16)))
        assert fake.most_in_flight >= 8, fake.most_in_flight


def test_connections_are_kept_alive_for_every_request_in_flight():
    """httpx keeps 20 idle connections by default: at 32 in flight, a new TCP connection (a
    TLS handshake against a remote API) would be opened for most requests."""
    with FakeOpenAI() as fake:
        fake.latency_s = 0.05
        client = _client(fake, 32)
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda i: _ask(client, i), range(160)))
        assert fake.most_in_flight > 20  # more in flight than httpx's default keeps
        assert fake.connections <= 32, fake.connections  # one per request in flight, reused
