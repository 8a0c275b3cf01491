import time

import pytest

from tests.prompts.fake_servers import FakeOpenAI, Reply, closed_port_url
from text3d.errors import BackendError
from text3d.prompts.augment import PromptAugmenter
from text3d.prompts.backends.openai_compat import OpenAICompatibleAugmenter
from text3d.prompts.base import BackendUnavailableError, GenerationParams

GOOD = "A small blue sailboat with a white fabric sail and a wooden hull."
MODEL = "Qwen/Qwen3-0.6B"


def stage_for(base_url: str, retries: int = 2, **options) -> PromptAugmenter:
    options.setdefault("backoff_s", 0.01)
    return PromptAugmenter(f"openai:{MODEL}", GenerationParams(max_retries=retries, max_tokens=200,
                                                                temperature=0.5),
                           cache=False, base_url=base_url, **options)


def test_request_and_response_follow_the_chat_completions_reference():
    with FakeOpenAI([GOOD]) as server:
        result = stage_for(server.url + "/v1").augment("small blue sailboat", seed=9)
    assert server.violations == []
    body = server.requests[0]
    assert body["model"] == MODEL and body["stream"] is False
    assert (body["temperature"], body["seed"], body["max_tokens"]) == (0.5, 9, 200)
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "authorization" not in server.headers[0]  # no key, no header
    assert result.caption == GOOD and result.rules_passed
    assert (result.backend, result.model) == ("openai", MODEL)
    assert result.prompt_tokens == sum(len(m["content"].split()) for m in body["messages"])
    assert result.completion_tokens == len(GOOD.split())


def test_base_url_and_key_from_the_environment(monkeypatch):
    with FakeOpenAI([GOOD], api_key="sk-local-test") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1/")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
        result = PromptAugmenter(f"openai:{MODEL}", cache=False).augment("small blue sailboat")
    assert result.caption == GOOD
    assert server.headers[0]["authorization"] == "Bearer sk-local-test"


def test_default_base_url_is_vllms():
    assert OpenAICompatibleAugmenter(model=MODEL).base_url == "http://localhost:8000/v1"


def test_a_wrong_key_is_a_clear_error():
    with FakeOpenAI([GOOD], api_key="right") as server:
        with pytest.raises(BackendError, match="HTTP 401: Incorrect API key provided"):
            stage_for(server.url + "/v1", api_key="wrong").augment("small blue sailboat")


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_in_a_separate_field_is_never_the_caption(field):
    with FakeOpenAI([Reply(content=GOOD, reasoning="The user wants a boat; think of a hull.")],
                    reasoning_field=field) as server:
        result = stage_for(server.url + "/v1").augment("small blue sailboat")
    assert result.caption == GOOD


def test_reasoning_inside_the_content_is_stripped():
    reply = "<think>\nLet me plan: small, blue, sailboat. 40 words max.\n</think>\n\n" + GOOD
    with FakeOpenAI([reply]) as server:
        result = stage_for(server.url + "/v1").augment("small blue sailboat")
    assert result.caption == GOOD and "removed reasoning" in result.repairs


def test_reasoning_only_with_null_content_is_retried():
    with FakeOpenAI([Reply(content="", reasoning="thinking..."), GOOD]) as server:
        result = stage_for(server.url + "/v1").augment("small blue sailboat")
    assert result.caption == GOOD and result.retries == 1


def test_servers_that_reject_chat_template_kwargs_are_asked_again_without_them():
    with FakeOpenAI([GOOD], reject_template_kwargs=True) as server:
        stage = stage_for(server.url + "/v1")
        result = stage.augment("small blue sailboat")
        stage.augment("small blue sailboat", seed=1)
    assert result.caption == GOOD and "chat_template_kwargs" in server.violations[0]
    assert len(server.requests) == 3
    assert all("chat_template_kwargs" not in r for r in server.requests[1:])


def test_http_500_then_success():
    with FakeOpenAI([Reply(status=500, error="CUDA out of memory"), GOOD]) as server:
        result = stage_for(server.url + "/v1").augment("small blue sailboat")
    assert result.caption == GOOD and len(server.requests) == 2


def test_persistent_500_is_a_one_line_error():
    with FakeOpenAI([Reply(status=503, error="model is loading")]) as server:
        with pytest.raises(BackendError, match="HTTP 503: model is loading") as info:
            stage_for(server.url + "/v1", http_retries=2).augment("small blue sailboat")
    assert "OpenAI-compatible server" in str(info.value) and len(server.requests) == 3


def test_timeout_and_malformed_bodies():
    with FakeOpenAI([Reply(content=GOOD, delay_s=1.0)]) as server:
        with pytest.raises(BackendError, match="no answer within the deadline of 0.2 s"):
            stage_for(server.url + "/v1", timeout_s=0.2, http_retries=0).augment("small blue sailboat")
    # a server that answers a byte every 0.1 s (each read in time) is cut off at the whole deadline
    with FakeOpenAI([Reply(content=GOOD, drip_s=0.1)]) as server:
        start = time.monotonic()
        with pytest.raises(BackendError, match="no answer within the deadline of 0.5 s"):
            stage_for(server.url + "/v1", timeout_s=0.5, http_retries=0).augment("small blue sailboat")
        assert time.monotonic() - start < 2.0  # the body is ~300 bytes: 30 s if each read were the limit
    with FakeOpenAI([Reply(raw_body=b"<html>502 Bad Gateway</html>")]) as server:
        with pytest.raises(BackendError, match="malformed JSON"):
            stage_for(server.url + "/v1", http_retries=0).augment("small blue sailboat")
    with FakeOpenAI([Reply(raw_body=b'{"object": "chat.completion", "choices": []}')]) as server:
        with pytest.raises(BackendError, match="no choices"):
            stage_for(server.url + "/v1").augment("small blue sailboat")


def test_server_down():
    with pytest.raises(BackendUnavailableError, match="OpenAI-compatible server .* not reachable"):
        stage_for(closed_port_url() + "/v1").augment("small blue sailboat")


def test_refusal_then_caption():
    with FakeOpenAI(["I'm sorry, but I can't assist with that.", GOOD]) as server:
        result = stage_for(server.url + "/v1").augment("small blue sailboat")
    assert result.caption == GOOD and result.retries == 1
    assert "refused" in server.requests[1]["messages"][-1]["content"]
