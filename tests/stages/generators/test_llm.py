"""The llm backend: checks against planted errors (fake server), and end to end on real SmolLM2."""

import json
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from documents import REPO, write_text_pdf
from fake_openai import HALLUCINATION, OFF_QUESTION, FakeOpenAI
from typer.testing import CliRunner

from curate.cli import app
from curate.core.config import GeneratorOptions, LLMOptions, RenderOptions, SampleOptions
from curate.schemas import TextBlock
from curate.schemas.reasons import FailureReason, RejectReason
from curate.stages.generators.checks import (
    answer_fits_question,
    builds_on,
    section_neighbourhood,
    table_neighbourhood,
)
from curate.stages.generators.grounding import is_grounded
from curate.stages.generators.llm import generate_llm_qa
from curate.stages.generators.llm_client import LLMCallError, LLMClient, LLMEndpoint
from curate.stages.samples import assemble_sample
from curate.stages.sources import render_document

EXAMPLES = REPO / "examples"
runner = CliRunner()


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = write_text_pdf(tmp_path_factory.mktemp("d") / "review.pdf")
    pages = list(render_document(str(path), RenderOptions(dpi=72)))[:2]
    return assemble_sample(pages, SampleOptions())


def _options(fake, tmp_path=None, **llm) -> GeneratorOptions:
    settings = {
        "base_url": fake.base_url,
        "model": "fake-model",
        "max_retries": 3,
        "timeout_s": 5,
        "structured_output": "json_schema",
        "cache_dir": str(tmp_path) if tmp_path else None,
        **llm,
    }
    return GeneratorOptions(
        backend="llm", max_qa_per_image=3, cross_image_questions=3, llm=LLMOptions(**settings)
    )


def _client(llm: LLMOptions, cache_dir: str | None = None, style: str | None = None) -> LLMClient:
    """A client for the fake endpoint the options name."""
    endpoint = LLMEndpoint(
        llm.base_url, llm.model or "", style or llm.structured_output, cache_dir, stream=llm.stream
    )
    return LLMClient(llm, endpoint)


def _generate(sample, options):
    client = _client(options.llm, options.llm.cache_dir, options.llm.structured_output)
    return generate_llm_qa(sample, client, options)


def test_grounded_answers_are_kept_and_planted_errors_rejected_with_reasons(fake, sample):
    result = _generate(sample, _options(fake))
    assert result.drop_reason is None and result.generator == "llm"
    kinds = [q.kind for q in result.qa]
    assert kinds == [
        "caption",
        "extractive",
        "self_explain",
        "caption",
        "extractive",
        "self_explain",
        "cross_image",
    ]
    for i, item in enumerate(result.qa):
        if item.kind == "extractive":
            assert is_grounded(item.answer, sample.image_texts[item.image_index], 90)
            assert item.evidence in sample.image_texts[item.image_index]
            explain = result.qa[i + 1]
            assert explain.kind == "self_explain" and item.answer in explain.answer
            assert (item.prompt_version, explain.prompt_version) == (
                "extractive.v3",
                "self_explain.v2",
            )
    # a question written for one page says which of the sample's images it asks about
    assert result.qa[1].question == "In image 1, what is the fiscal year?"
    assert result.qa[1].answer == "2024"
    rejected = {(q.question, q.answer, q.reject_reason) for q in result.rejected_qa}
    assert ("Who owns the harbour?", HALLUCINATION, RejectReason.UNGROUNDED) in rejected
    # on the page ("Ships handled: 1,284") but not what the question asks
    assert (OFF_QUESTION, "1,284", RejectReason.ANSWER_OFF_QUESTION) in rejected
    assert sorted(q.reject_reason for q in result.rejected_qa if q.kind == "cross_image") == [
        RejectReason.DUPLICATE_QUESTION,
        RejectReason.NOT_MULTI_IMAGE,  # both of its cited facts are found only in image 1
    ]
    cross = result.qa[-1]
    assert 'Image 1 says "Harbour Authority Annual Review"' in cross.answer
    assert 'image 2 says "Berth Occupancy"' in cross.answer
    assert all(HALLUCINATION not in t.content for t in result.conversations)
    assert sum(t.content.count("<image>") for t in result.conversations) == 2
    assert result.conversations[0].content == "Describe <image> image 1 in detail."
    usage = result.llm_usage
    # the calls that need no reply are sent at once; a follow-up waits for its pairs
    assert sorted(fake.tasks()) == sorted(
        ["caption", "extractive", "self_explain"] * 2 + ["multi_image"]
    )
    assert set(fake.tasks()[:5]) == {"caption", "extractive", "multi_image"}
    assert usage.requests == len(fake.requests) == 7
    assert (usage.prompt_tokens, usage.completion_tokens) == (700, 140)


def _follow_ups(answer_for, question_for=lambda q, a: f"Why does {a} matter here?"):
    """A planted self-explain reply: `answer_for(question, answer)` for every pair asked."""
    from fake_openai import pairs_asked

    def reply(prompt):
        return {
            "follow_ups": [
                {"pair": i, "question": question_for(q, a), "answer": answer_for(q, a)}
                for i, (q, a) in enumerate(pairs_asked(prompt), start=1)
            ]
        }

    return reply


@pytest.mark.parametrize(
    "planted, reason",
    [
        (lambda q, a: f"{a} grew by 937 percent under Governor Hollis.", RejectReason.UNGROUNDED),
        (
            lambda q, a: f"The answer {a} is on image 1, in the second line near the top.",
            RejectReason.LOCATION_ONLY,
        ),
        (
            lambda q, a: "ports handle many ships and cargo of many kinds every season.",
            RejectReason.SELF_EXPLAIN_OFF_ANSWER,
        ),
    ],
    ids=["invented-number-and-name", "location-only", "ignores-the-answer"],
)
def test_bad_self_explain_turns_are_rejected_and_the_extractive_pair_stays(
    fake, sample, planted, reason
):
    fake.plant["self_explain"] = _follow_ups(planted, lambda q, a: "Why is that so?")
    result = _generate(sample, _options(fake))
    assert [q.kind for q in result.qa].count("self_explain") == 0
    assert [q.kind for q in result.qa].count("extractive") == 2
    follow = [q for q in result.rejected_qa if q.kind == "self_explain"]
    assert len(follow) == 2 and {q.reject_reason for q in follow} == {reason}


def test_the_same_page_question_on_two_images_names_each_and_keeps_both(fake, sample):
    """SmolLM2 asks "What is the title of this page?" of every page of a sample."""
    from fake_openai import page_text

    fake.plant["extractive"] = lambda prompt: {
        "qa": [
            {
                "question": "What is the title of this page?",
                "answer": page_text(prompt).split("\n")[0],
            }
        ]
    }
    result = _generate(sample, _options(fake))
    asked = [(q.question, q.answer) for q in result.qa if q.kind == "extractive"]
    titles = [text.splitlines()[0] for text in sample.image_texts]
    assert asked == [(f"What is the title of image {n}?", t) for n, t in enumerate(titles, 1)]


def test_cross_image_items_need_facts_found_in_two_images_and_grounded_answers(fake, sample):
    year, share, ships = "Fiscal year: 2024", "Container: 81% and 77%", "Ships handled: 1,284"

    def item(question, answer, *evidence):
        return {
            "question": question,
            "answer": answer,
            "evidence": [{"image": i, "fact": f} for i, f in evidence],
        }

    fake.plant["multi_image"] = lambda prompt: {
        "questions": [
            item(
                "Which fiscal year do the container shares belong to?",
                "2024",
                (1, year),
                (2, share),
            ),
            item(
                "Which image mentions the ships handled?", "Image 1", (1, year), (2, ships)
            ),  # not on 2
            item(
                "How do the year and the container shares compare?",
                "3000 more",
                (1, year),
                (2, share),
            ),
        ]
    }
    result = _generate(sample, _options(fake))
    (kept,) = [q for q in result.qa if q.kind == "cross_image"]
    assert kept.question == "Which fiscal year do the container shares belong to?"
    assert kept.answer == f'2024. Image 1 says "{year}"; image 2 says "{share}".'
    rejected = {q.question: q.reject_reason for q in result.rejected_qa if q.kind == "cross_image"}
    assert rejected == {
        "Which image mentions the ships handled?": RejectReason.NOT_MULTI_IMAGE,
        # 3000 is on no page, nor a sum or difference of the cited facts' numbers
        "How do the year and the container shares compare?": RejectReason.UNGROUNDED,
    }


def test_derived_numbers_allow_totals_and_differences_of_cited_facts():
    from curate.stages.generators.checks import claims_grounded, derived_numbers

    facts = ["Budget: 9.8 million dollars", "Planned berths: 2", "Inspections: 112"]
    derived = " ".join(derived_numbers(facts))
    assert claims_grounded("Together 114 inspections and berths", derived)
    assert claims_grounded("110 more inspections than berths", derived)
    assert not claims_grounded("115 in all", derived)


def test_verification_pass_rejects_answers_a_second_reading_disagrees_with(fake, sample):
    def reply(prompt):
        questions = __import__("re").findall(r"^(\d+)\. (.*)$", prompt, __import__("re").M)
        return {
            "answers": [
                {"pair": int(n), "answer": "2024" if "fiscal" in q else "something else"}
                for n, q in questions
            ]
        }

    fake.plant["verify"] = reply
    result = _generate(sample, _options(fake, verify=True))
    kept = [q.answer for q in result.qa if q.kind == "extractive"]
    assert kept == ["2024"]
    assert [
        (q.answer, q.reject_reason)
        for q in result.rejected_qa
        if q.reject_reason == "verification_disagrees"
    ] == [("81% and 77%", RejectReason.VERIFICATION_DISAGREES)]
    assert fake.tasks().count("verify") == 2


def test_a_second_reading_withdraws_the_follow_ups_and_captions_it_finds_false(fake, sample):
    """With --llm-verify, captions, follow-ups and cross-image answers are read again against
    the pages, statement by statement (a wrong explanation can be made of the page's words):
    one found false is withdrawn, its pair stays; one the reading leaves out is not kept."""
    from fake_openai import items_checked

    fake.plant["verify"] = lambda prompt: {"answers": [{"pair": 1, "answer": "2024"}]}

    def check(prompt):
        listed = items_checked(prompt)
        return {
            "checks": [
                {"item": n, "wrong": ["The page does not say so."] if "2024" in q else []}
                for n, q, _ in listed
                if q  # the captions are left out
            ]
        }

    fake.plant["check"] = check
    result = _generate(sample, _options(fake, verify=True))
    assert [q.kind for q in result.qa] == ["extractive", "cross_image"]
    assert result.qa[0].answer == "2024"
    withdrawn = sorted(
        q.kind for q in result.rejected_qa if q.reject_reason == "verification_found_error"
    )
    assert withdrawn == ["caption", "caption", "self_explain"]
    assert fake.tasks().count("check") == 1
    (prompt,) = [p for p in fake.prompts() if p.startswith("Pages:")]
    assert "(follows Q: In image 1, what is the fiscal year? A: 2024)" in prompt
    assert "Image 2:\n" in prompt  # the cross-image item is read against every page


def test_a_failed_caption_call_leaves_the_other_tasks_running(fake, sample):
    fake.refuse["caption"] = 1  # the first caption call is refused for good
    result = _generate(sample, _options(fake))
    assert result.drop_reason is None
    assert [q.kind for q in result.qa].count("extractive") == 2
    assert [q.kind for q in result.qa].count("caption") == 1
    (failed,) = [q for q in result.rejected_qa if q.reject_reason == RejectReason.TASK_FAILED]
    (caption,) = [q for q in result.qa if q.kind == "caption"]
    assert failed.kind == "caption" and failed.image_index != caption.image_index


def test_a_sample_whose_extractive_calls_all_fail_is_a_failure_with_its_usage(fake, sample):
    fake.refuse["extractive"] = 2
    with pytest.raises(LLMCallError) as err:
        _generate(sample, _options(fake))
    assert err.value.reason == FailureReason.LLM_ERROR
    assert err.value.usage.requests == len(fake.requests) >= 4  # every attempt is counted


def test_structured_output_auto_steps_down_to_what_the_endpoint_accepts(fake, sample):
    fake.reject_formats = {"json_schema"}  # like llama-cpp-python's server: HTTP 500
    options = _options(fake, structured_output="auto")
    client = _client(options.llm, None, "auto")
    result = generate_llm_qa(sample, client, options)
    assert client.style == "json_object_schema" and result.qa
    formats = [(r.get("response_format") or {}).get("type") for r in fake.requests]
    assert formats[0] == "json_schema" and formats[1:] == ["json_object"] * (len(formats) - 1)
    assert result.llm_usage.requests == len(fake.requests)  # the refused attempt counts too
    fake.reject_formats = {"json_schema", "json_object_schema", "json_object"}
    client = _client(options.llm, None, "auto")
    generate_llm_qa(sample, client, options)
    assert client.style == "none" and "response_format" not in fake.requests[-1]


def test_vision_sends_each_image_in_order_within_the_pixel_budget(fake):
    from fake_openai import decoded_images
    from PIL import Image

    from curate.schemas import ImageData, PageRecord, TextBlock

    colours = ["red", "green", "blue"]
    pages = []
    for i, colour in enumerate(colours):
        buffer = __import__("io").BytesIO()
        Image.new("RGB", (2000, 1500), colour).save(buffer, format="PNG")
        pages.append(
            PageRecord(
                f"d-{i:05d}",
                "d",
                "/d.pdf",
                "0",
                "pdf",
                i,
                3,
                144,
                2000,
                1500,
                ImageData(buffer.getvalue(), f"d-{i:05d}.png"),
                [
                    TextBlock(f"Colour: {colour}", (0, 0, 10, 10)),
                    TextBlock(f"Page {i + 1} of the colour chart", (0, 20, 10, 30)),
                ],
            )  # fmt: skip
        )
    sample = assemble_sample(pages, SampleOptions(max_images=3))
    result = _generate(sample, _options(fake, vision=True, vision_max_pixels=500_000))
    per_image = [r for r in fake.requests if fake.tasks()[fake.requests.index(r)] != "multi_image"]
    for request in per_image:
        (image,) = decoded_images(request)
        assert image.width * image.height <= 500_000
    multi = fake.requests[fake.tasks().index("multi_image")]
    sent = decoded_images(multi)
    assert [im.convert("RGB").getpixel((5, 5)) for im in sent] == [
        (255, 0, 0),
        (0, 128, 0),
        (0, 0, 255),
    ]
    assert all(im.width * im.height <= 500_000 for im in sent)
    assert (
        result.llm_usage.images
        == sum(len(decoded_images(r)) for r in fake.requests)
        == len(per_image) + 3
    )


def test_429_with_retry_after_is_honoured(fake, sample):
    fake.script = [("status", 429, {"Retry-After": "1"})]
    started = time.monotonic()
    result = _generate(sample, _options(fake))
    assert time.monotonic() - started >= 1.0
    assert result.drop_reason is None and len(fake.requests) == 8  # 7 calls + 1 retry


def test_500_and_a_timeout_are_retried(fake, sample):
    fake.script = [("status", 500), ("sleep", 2)]
    result = _generate(sample, _options(fake, timeout_s=0.5))
    assert result.drop_reason is None and len(fake.requests) == 9


def test_errors_that_persist_become_a_reasoned_failure(fake, sample):
    fake.script = [("status", 503)] * 10
    with pytest.raises(LLMCallError) as err:
        _generate(sample, _options(fake, max_retries=1))
    assert err.value.reason == FailureReason.LLM_ERROR and "503" in str(err.value)


def test_tolerant_parsing_of_llm_replies():
    from curate.stages.generators.llm_client import parse_json_object

    assert parse_json_object('Sure:\n```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_object('{"answer": "two\nlines"}') == {"answer": "two\nlines"}  # raw newline
    cut = '{"qa": [{"q": "x}", "a": "1"}, {"q": "y", "a": "unfinish'
    assert parse_json_object(cut) == {"qa": [{"q": "x}", "a": "1"}]}  # complete items are kept
    with pytest.raises(ValueError):
        parse_json_object("no json here")


def test_malformed_json_gets_a_bounded_retry_then_a_failure(fake, sample):
    fake.script = [("content", "Sure, here you go: not json")]
    result = _generate(sample, _options(fake))
    assert result.drop_reason is None and result.llm_usage.requests == 8
    fake.script = [("content", "still not json")] * 30  # every call: captions fail alone, then
    with pytest.raises(LLMCallError) as err:  # no extractive call succeeds: a failure row
        _generate(sample, _options(fake, invalid_output_retries=2, cache_dir=None))
    assert err.value.reason == FailureReason.LLM_INVALID_OUTPUT and "3 attempt" in str(err.value)


@pytest.mark.slow
def test_cli_second_run_makes_zero_calls_and_never_writes_the_key(fake, tmp_path):
    secret = "sk-test-never-store-me-123"
    args = [
        "run",
        str(EXAMPLES / "alpine-field-guide.pdf"),
        "-o",
        str(tmp_path / "out"),
        "--no-progress",
        "--generator",
        "llm",
        "--llm-base-url",
        fake.base_url,
        "--llm-model",
        "fake-model",
        "--llm-api-key",
        secret,
    ]
    first = runner.invoke(app, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    calls = len(fake.requests)
    assert calls > 0 and fake.headers[0]["authorization"] == f"Bearer {secret}"
    second = runner.invoke(app, args, catch_exceptions=False)
    assert second.exit_code == 0 and len(fake.requests) == calls  # all answered from the cache
    assert "100% hit rate" in second.output.replace("\n", " ")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["llm"]["cache_hit_rate"] == 1.0 and manifest["llm"]["requests"] == 0
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in first.output + second.output


@pytest.mark.slow
def test_failures_land_in_the_dead_letter_output_and_the_job_finishes(fake, tmp_path):
    fake.script = [("content", "garbage")] * 200
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "run",
            str(EXAMPLES / "alpine-field-guide.pdf"),
            "-o",
            str(out),
            "--no-progress",
            "--generator",
            "llm",
            "--llm-base-url",
            fake.base_url,
            "--llm-model",
            "m",
        ],
    )
    assert result.exit_code == 1, result.output  # everything failed: written, then loud
    assert "max-failure-rate" in result.output
    (failure,) = pq.read_table(out / "dead_letter").to_pylist()
    assert failure["reason"] == FailureReason.LLM_INVALID_OUTPUT and failure["stage"] == "generate"
    manifest = json.loads((out / "manifest.json").read_text())  # failed calls are counted too
    assert manifest["llm"]["requests"] == len(fake.requests) > 0


def _judged_run(out: Path) -> tuple[list[dict], dict]:
    """The rows of a run with a real model, after checking that everything it kept passes the
    checks; the model's quality is not asserted, the pipeline's honesty is."""
    rows = [*pq.read_table(out / "data").to_pylist(), *pq.read_table(out / "dropped").to_pylist()]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["failures_by_reason"] == {}, manifest[
        "failures_by_reason"
    ]  # the server answered
    assert manifest["llm"]["requests"] > 0 and manifest["llm"]["completion_tokens"] > 0
    judged = sum(len(r["qa"]) + len(r["rejected_qa"]) for r in rows)
    assert judged >= manifest["llm"]["requests"] // 2, "the model's replies were parsed and judged"
    for row in rows:
        assert row["generator"] == "llm"
        for i, qa in enumerate(row["qa"]):
            if qa["kind"] == "extractive":
                lines = row["image_texts"][qa["image_index"]].splitlines()
                blocks = [TextBlock(**b) for b in row["image_blocks"][qa["image_index"]]]
                cells = table_neighbourhood(qa["answer"], blocks)
                section = section_neighbourhood(qa["answer"], blocks)
                assert is_grounded(qa["answer"], "\n".join(lines), 90)
                assert answer_fits_question(
                    qa["question"], qa["answer"], lines, cells=cells, section=section
                )
                if i + 1 < len(row["qa"]) and row["qa"][i + 1]["kind"] == "self_explain":
                    follow = row["qa"][i + 1]
                    assert builds_on(f"{follow['question']} {follow['answer']}", qa["answer"])
    return rows, manifest


def _finished(result, embedded: bool = False) -> None:
    """The job ran to its end: exit 0, or 1 only because SmolLM2-135M got no sample past the
    checks (a job that keeps nothing fails, with that line, which for the embedded server
    says to use a stronger endpoint)."""
    said = " ".join(result.output.split())
    if result.exit_code == 1:
        assert "The job kept no samples" in said and "Traceback" not in said, result.output
        assert ("point --llm-base-url at a stronger one" in said) == embedded, result.output
    else:
        assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_end_to_end_with_the_embedded_smollm2_server(tmp_path):
    """Real SmolLM2-135M through llama-cpp-python's server, started and stopped by curate. Built
    portable (GGML_NATIVE=OFF), it must answer on AVX2 and AVX-512/AMX CPUs alike."""
    pytest.importorskip("llama_cpp")
    out = tmp_path / "out"
    inputs = [str(EXAMPLES / "northwind-quarterly-report.pdf")]  # SmolLM2 on 2 cores is slow
    result = runner.invoke(
        app,
        ["run", *inputs, "-o", str(out), "--no-progress", "--generator", "llm"],
        catch_exceptions=False,
    )
    _finished(result, embedded=True)
    assert "started the local LLM (SmolLM2-135M-Instruct)" in result.output
    rows, manifest = _judged_run(out)
    stored = sorted(path.name for path in (out / "llm_cache").rglob("*.json"))
    # a re-run gets a new server on a new port, and pays for no stored reply twice: it asks
    # again only a call whose reply was still cut at 4x max_tokens (used, never cached), which
    # SmolLM2 sometimes loops into
    again = runner.invoke(
        app,
        ["run", *inputs, "-o", str(out), "--no-progress", "--generator", "llm"],
        catch_exceptions=False,
    )
    assert again.exit_code == result.exit_code, again.output
    usage = json.loads((out / "manifest.json").read_text())["llm"]
    assert usage["cache_hits"] >= len(stored) > 0
    assert usage["requests"] < manifest["llm"]["requests"]
    assert sorted(path.name for path in (out / "llm_cache").rglob("*.json")) == stored
    rerun = [*pq.read_table(out / "data").to_pylist(), *pq.read_table(out / "dropped").to_pylist()]
    assert [row["qa"] for row in rerun] == [row["qa"] for row in rows]


@pytest.mark.slow
def test_a_real_llama_cpp_server_as_an_external_endpoint_negotiates_its_format(tmp_path):
    """llama-cpp-python's server refuses json_schema (HTTP 500); `auto` steps down to what it
    takes, instead of failing every call."""
    pytest.importorskip("llama_cpp")
    import subprocess
    import sys
    import urllib.request

    from curate.core.weights import smollm2_gguf
    from curate.stages.generators.embedded import free_port

    port, log = free_port(), tmp_path / "server.log"
    model = str(smollm2_gguf())
    command = [sys.executable, "-m", "llama_cpp.server", "--model", model, "--model_alias", "smol",
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"]  # fmt: skip
    with open(log, "wb") as handle:
        server = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        out = tmp_path / "out"
        url = f"http://127.0.0.1:{port}/v1"
        args = ["run", str(EXAMPLES / "alpine-field-guide.pdf"), "-o", str(out), "--no-progress",
                "--generator", "llm", "--llm-base-url", url, "--llm-model", "smol"]  # fmt: skip
        result = runner.invoke(app, args, catch_exceptions=False)
        _finished(result)
        _judged_run(out)
    finally:
        server.terminate()
        server.wait(10)
    statuses = [
        line.rsplit('" ', 1)[-1].split()[0]
        for line in log.read_text().splitlines()
        if "POST /v1/chat" in line
    ]
    assert "500" in statuses and statuses.count("200") > statuses.count("500")


@pytest.mark.slow
def test_a_crashed_embedded_server_is_reported_restarted_once_then_stops_the_job():
    """A crash is never "connection error": its exit status and log tail are reported; the
    server is restarted once; after a second crash calls fail at once and the job exits
    non-zero (serve raises, which the CLI turns into exit status 2)."""
    pytest.importorskip("llama_cpp")
    import os
    import signal

    from curate.stages.generators.embedded import EmbeddedServerError
    from curate.stages.generators.llm import LLMGenerator

    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    ask = [{"role": "user", "content": "Reply in JSON with the key a."}]
    with pytest.raises(EmbeddedServerError, match=r"signal 11 \(SIGSEGV\)"):
        with LLMGenerator.serve(
            GeneratorOptions(backend="llm"), "/tmp/unused", remote=False
        ) as endpoint:
            from curate.stages.generators.embedded import server_state

            client = LLMClient(GeneratorOptions().llm, endpoint)
            first = _pid_on(endpoint.base_url)
            os.kill(first, signal.SIGSEGV)
            deadline = time.monotonic() + 30
            while _pid_on(endpoint.base_url) in (None, first) and time.monotonic() < deadline:
                time.sleep(0.2)
            data, _ = client.complete_json("t.v1", ask, schema)  # answered by the restarted server
            assert "a" in data
            os.kill(_pid_on(endpoint.base_url), signal.SIGSEGV)
            while server_state(endpoint.server_status) != "dead" and time.monotonic() < deadline:
                time.sleep(0.2)
            started = time.monotonic()
            with pytest.raises(LLMCallError) as err:
                client.complete_json("t.v2", ask, schema)
            assert time.monotonic() - started < 1  # no retries against a dead server
            assert "crashed" in str(err.value) and "SIGSEGV" in str(err.value)
            assert "Connection error" not in str(err.value)


def _pid_on(base_url: str) -> int | None:
    """The pid of the llama_cpp.server process listening on the URL's port (from /proc)."""
    import subprocess

    port = base_url.rsplit(":", 1)[1].split("/")[0]
    found = subprocess.run(
        ["pgrep", "-f", f"llama_cpp.server.*--port {port}"], capture_output=True, text=True
    )
    pids = [int(p) for p in found.stdout.split()]
    return pids[0] if pids else None


def test_checks_catch_what_smollm2_wrote_on_the_shared_corpus():
    """Real replies of the 135M model on ../shared/corpus pages that looked plausible."""
    from curate.stages.generators.checks import (
        answer_fits_question,
        echoes,
        is_question,
        mostly_from,
    )

    assert (
        not is_question("1") and not is_question("4,") and is_question("What is the fiscal year?")
    )
    table = [
        "fonts-conf",
        "Name",
        "Value",
        "Meaning",
        "MATCH",
        "1",
        "Brief information about font matching",
    ]
    question = (
        "What is the name of the font configuration that contains a list of languages it supports?"
    )
    assert not answer_fits_question(question, "MATCH", table)  # "MATCH" is not inside "matching"
    config = [*table, "This is the top level element for a font configuration and can contain",
              "<cachedir>, <include>, <match> and <alias> elements in any order."]  # fmt: skip
    assert not answer_fits_question(question, "MATCH", config)  # nor is it "<match>"
    page = "Field Guide to Alpine Birds\nVolume 2: High Meadows\nAuthor: Marta Keller"
    assert not answer_fits_question(
        "How many pages are there in the guide?", "2", page.splitlines()
    )
    assert answer_fits_question(
        "Who is the author of the guide?", "Marta Keller", page.splitlines()
    )
    for echo in ("2 to 4 sentences for this page", "A page with a slide, table and report page."):
        assert not mostly_from(echo, page)
    assert mostly_from("A field guide to alpine birds of the high meadows, by Marta Keller.", page)
    assert not is_question("The first content slide") and is_question(
        "Name the author of the guide"
    )
    assert echoes("What happens when there's 2,", "3. What happens when there's one")
    assert not echoes("What is the title of this page?", "Title Slide")


def test_a_reply_trickled_past_the_deadline_is_cut_off(fake, sample):
    """The timeout covers a whole attempt: a byte every 50 ms keeps every read in time, but the
    reply (about 500 bytes) takes 25 s; it is cut off at timeout_s and reported."""
    fake.script = [("trickle", 0.05)] * 3
    options = _options(fake, timeout_s=1, max_retries=0)
    client = _client(options.llm, None, "json_schema")
    started = time.monotonic()
    with pytest.raises(LLMCallError) as err:
        client.complete_json("t1", [{"role": "user", "content": "hi"}], {"type": "object"})
    assert time.monotonic() - started < 4  # two attempts of 1 s (timeout_retries: 1)
    assert err.value.reason == FailureReason.LLM_UNAVAILABLE and "timed out" in str(err.value)
    assert len(fake.requests) == 2


def test_a_silent_endpoint_is_given_up_on_at_the_first_byte_deadline(fake):
    """A server that accepts the request and never answers: each attempt ends after
    first_byte_timeout_s, not timeout_s; a timed-out call is tried again once, and each
    timed-out attempt counts toward the breaker."""
    fake.script = [("silent",)] * 10
    options = _options(fake, timeout_s=60, first_byte_timeout_s=1, breaker_failures=3)
    client = _client(options.llm, None, "json_schema")
    ask = [{"role": "user", "content": "hi"}]
    started = time.monotonic()
    with pytest.raises(LLMCallError) as err:
        client.complete_json("t1", ask, {"type": "object"})
    assert 2 <= time.monotonic() - started < 4
    assert err.value.reason == FailureReason.LLM_UNAVAILABLE
    assert "sent nothing for 1 s" in str(err.value) and err.value.usage.requests == 2
    with pytest.raises(LLMCallError):  # the third timed-out attempt trips the breaker
        client.complete_json("t2", ask, {"type": "object"})
    assert len(fake.requests) == 3
    with pytest.raises(LLMCallError) as err:
        client.complete_json("t3", ask, {"type": "object"})
    assert len(fake.requests) == 3 and "not sent" in str(err.value)
    assert err.value.reason == FailureReason.LLM_UNAVAILABLE


def test_when_the_breaker_trips_requests_in_flight_are_abandoned(fake):
    """One reply streams slowly (20 s, progressing) while other calls meet silence: when they
    trip the breaker, the slow call ends at once as llm_unavailable instead of 20 s later."""
    from concurrent.futures import ThreadPoolExecutor

    fake.script = [("stream_over", 20)] + [("silent",)] * 10
    options = _options(
        fake, timeout_s=60, first_byte_timeout_s=1, timeout_retries=0, breaker_failures=2
    )
    client = _client(options.llm, None, "json_schema")

    def ask(n):
        return client.complete_json(f"t{n}", [{"role": "user", "content": "hi"}], {})

    with ThreadPoolExecutor(3) as pool:
        started = time.monotonic()
        slow = pool.submit(ask, 0)
        while not fake.requests:
            time.sleep(0.01)
        silent = [pool.submit(ask, n) for n in (1, 2)]
        for future in [*silent, slow]:
            with pytest.raises(LLMCallError) as err:
                future.result()
            assert err.value.reason == FailureReason.LLM_UNAVAILABLE
        assert time.monotonic() - started < 5
    # the slow call was abandoned when the breaker tripped; on a loaded machine its own first
    # byte can miss the 1 s deadline first, which ends it as quickly
    said = str(err.value)
    assert ("not sent" in said and "failed in a row" in said) or "sent nothing for 1 s" in said


def test_streamed_replies_are_put_together_with_their_token_counts(fake):
    fake.script = [("stream_over", 2)]
    options = _options(fake)
    client = _client(options.llm, None, "json_schema")
    data, usage = client.complete_json(
        "t1", [{"role": "user", "content": "hi"}], {"type": "object"}
    )
    assert data == {} and fake.requests[0]["stream"] is True
    assert usage.prompt_tokens == 100 and usage.completion_tokens == 20 and usage.requests == 1
    plain = _client(options.llm.model_copy(update={"stream": False}), None, "json_schema")
    assert plain.complete_json("t2", [{"role": "user", "content": "hi"}], {})[0] == {}
    assert "stream" not in fake.requests[1]


def test_an_endpoint_failing_in_a_row_is_not_called_again(fake, sample):
    fake.script = [("status", 500)] * 1000
    options = _options(fake, max_retries=0, breaker_failures=3)
    client = _client(options.llm, None, "json_schema")
    with pytest.raises(LLMCallError):
        generate_llm_qa(sample, client, options)
    sent = len(fake.requests)
    with pytest.raises(LLMCallError) as err:  # the next sample: failed at once, nothing sent
        generate_llm_qa(sample, client, options)
    assert len(fake.requests) == sent
    assert err.value.reason == FailureReason.LLM_UNAVAILABLE
    assert "in a row" in str(err.value) and "HTTP 500" in str(err.value)


def test_a_retry_after_beyond_the_wait_budget_is_reported_as_such(fake):
    fake.script = [("status", 429, {"Retry-After": "3600"})] * 3
    options = _options(fake, max_retries=0)
    client = _client(options.llm, None, "json_schema")
    with pytest.raises(LLMCallError) as err:
        client.complete_json("t1", [{"role": "user", "content": "hi"}], {"type": "object"})
    assert "asked to wait 3600 s" in str(err.value)


def test_an_html_page_from_the_endpoint_gets_a_clear_reason(fake):
    fake.script = [("html",)]
    options = _options(fake, max_retries=0)
    client = _client(options.llm, None, "json_schema")
    with pytest.raises(LLMCallError) as err:
        client.complete_json("t1", [{"role": "user", "content": "hi"}], {"type": "object"})
    assert "answered with a page" in str(err.value) and "/v1" in str(err.value)
    assert "attribute" not in str(err.value)


def test_refresh_cache_asks_again_and_the_cache_key_names_endpoint_and_model(fake, tmp_path):
    options = _options(fake, tmp_path)
    ask = [{"role": "user", "content": "hi"}], {"type": "object"}
    _client(options.llm, str(tmp_path), "json_schema").complete_json("t1", *ask)
    _client(options.llm, str(tmp_path), "json_schema").complete_json("t1", *ask)
    assert len(fake.requests) == 1  # the second came from the cache
    refresh = options.llm.model_copy(update={"refresh_cache": True})
    _client(refresh, str(tmp_path), "json_schema").complete_json("t1", *ask)
    other_model = options.llm.model_copy(update={"model": "another-model"})
    _client(other_model, str(tmp_path), "json_schema").complete_json("t1", *ask)
    assert len(fake.requests) == 3


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ({"qa": [{"question": 1, "answer": ["x"]}]}, "reply.qa[0].question should be string"),
        ({"qa": "nothing"}, "reply.qa should be array"),
        ({"items": []}, "reply lacks 'qa'"),
    ],
)
def test_replies_of_the_wrong_shape_or_types_are_named_not_empty_answers(
    fake, sample, reply, problem
):
    fake.plant = {task: (lambda prompt: reply) for task in ("extractive", "caption", "multi_image")}
    with pytest.raises(LLMCallError) as err:
        _generate(sample, _options(fake))
    assert err.value.reason == FailureReason.LLM_INVALID_OUTPUT
    assert problem in str(err.value) and "Traceback" not in str(err.value)


ITEMS = {"type": "object", "properties": {"qa": {"type": "array"}}, "required": ["qa"]}


def test_a_reply_cut_at_max_tokens_is_asked_again_with_more_room_and_only_then_cached(
    fake, tmp_path
):
    """finish_reason "length": the reply lost its end. It is asked again with twice the room,
    and the complete reply is what the cache keeps."""
    fake.script = [("cut", '{"qa": [{"q": 1}, {"q": 2}, {"q"'), ("content", '{"qa": [1, 2, 3]}')]
    options = _options(fake, max_tokens=100)
    client = _client(options.llm, str(tmp_path), "json_schema")
    ask = [{"role": "user", "content": "three items"}]
    data, usage = client.complete_json("t1", ask, ITEMS)
    assert data == {"qa": [1, 2, 3]} and usage.requests == 2
    assert [r["max_tokens"] for r in fake.requests] == [100, 200]
    again = _client(options.llm, str(tmp_path), "json_schema")
    assert again.complete_json("t1", ask, ITEMS)[0] == {"qa": [1, 2, 3]}
    assert len(fake.requests) == 2  # from the cache: the complete reply


def test_a_reply_still_cut_with_four_times_the_room_is_used_but_never_cached(fake, tmp_path):
    fake.script = [("cut", '{"qa": [{"q": 1}, {"q": 2}, {"q"')] * 6
    options = _options(fake, max_tokens=100)
    client = _client(options.llm, str(tmp_path), "json_schema")
    ask = [{"role": "user", "content": "three items"}]
    data, _ = client.complete_json("t1", ask, ITEMS)
    assert data == {"qa": [{"q": 1}, {"q": 2}]}  # the complete items of the cut reply
    assert [r["max_tokens"] for r in fake.requests] == [100, 200, 400]
    assert client.complete_json("t1", ask, ITEMS)[0] == data
    assert len(fake.requests) == 6  # not cached: asked again


def test_spend_of_cached_replies_is_kept_and_an_unpriced_model_costs_unknown(fake, tmp_path):
    """A cached re-run showed $0 in the manifest and every sample: what the data cost was lost.
    An unlisted model printed $0.0000 with no warning (issue 33, item 5)."""
    config = tmp_path / "curate.yaml"
    config.write_text("generator:\n  llm:\n    prices:\n      fake-model: {input: 2, output: 8}\n")
    out = tmp_path / "out"
    args = ["run", str(EXAMPLES / "alpine-field-guide.pdf"), "-o", str(out), "--local",
            "--no-progress", "--generator", "llm", "--llm-base-url", fake.base_url,
            "--llm-model", "fake-model"]  # fmt: skip
    first = runner.invoke(app, [*args, "--config", str(config)], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    paid = json.loads((out / "manifest.json").read_text())["llm"]
    expected = (paid["prompt_tokens"] * 2 + paid["completion_tokens"] * 8) / 1e6
    assert paid["cost_usd"] == pytest.approx(expected) and expected > 0
    again = runner.invoke(app, [*args, "--config", str(config)], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    cached = json.loads((out / "manifest.json").read_text())["llm"]
    assert cached["requests"] == 0 and cached["cost_usd"] == 0
    assert cached["cached_cost_usd"] == pytest.approx(paid["cost_usd"])
    assert cached["total_cost_usd"] == pytest.approx(paid["cost_usd"])
    assert cached["cached_prompt_tokens"] == paid["prompt_tokens"]
    rows = [*pq.read_table(out / "data").to_pylist(), *pq.read_table(out / "dropped").to_pylist()]
    spent = sum(row["llm_usage"]["cached_cost_usd"] for row in rows if row["llm_usage"])
    assert spent == pytest.approx(paid["cost_usd"])
    said = " ".join(again.output.split())
    assert f"${paid['cost_usd']:.4f} for the cached replies" in said

    unpriced = runner.invoke(app, [*args[:3], str(tmp_path / "o2"), *args[4:]])
    said = " ".join(unpriced.output.split())
    assert "no price for the model 'fake-model' in generator.llm.prices" in said
    assert "estimated cost unknown (no price for the model" in said
    assert json.loads((tmp_path / "o2" / "manifest.json").read_text())["llm"]["cost_usd"] is None


def test_a_sample_whose_pairs_were_all_rejected_keeps_its_caption_and_cross_image_items(
    fake, sample
):
    """Strong-model simulation: a sample lost its good caption and cross-image item when its
    extractive pairs were all rejected. They are kept; the rejected pairs stay in
    rejected_qa with their reason. With nothing accepted at all, the sample is dropped."""
    from curate.core.stage import Drop, Keep
    from curate.stages.generators.stage import GenerateQA

    fake.plant = {
        "extractive": lambda prompt: {
            "qa": [{"question": "Who owns the harbour?", "answer": HALLUCINATION}]
        }
    }
    stage = GenerateQA(_options(fake))
    stage.setup()
    try:
        ((outcome,),) = stage.process_batch([sample])
        assert isinstance(outcome, Keep)
        kinds = [q.kind for q in outcome.item.qa]
        assert "extractive" not in kinds and "self_explain" not in kinds
        assert kinds.count("caption") == 2 and "cross_image" in kinds
        assert {q.reject_reason for q in outcome.item.rejected_qa if q.kind == "extractive"} == {
            RejectReason.UNGROUNDED
        }
        nothing = {"qa": [], "captions": [], "caption": "", "items": []}
        fake.plant = {t: (lambda prompt: nothing) for t in ("extractive", "multi_image")}
        fake.plant["caption"] = lambda prompt: {"caption": f"{HALLUCINATION} covers it all."}
        ((outcome,),) = stage.process_batch([sample])
        assert isinstance(outcome, Drop) and outcome.reason == "no_qa_generated"
    finally:
        stage.teardown()
