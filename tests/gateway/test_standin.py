"""The stand-in upstream that ships with the package (`vvv.gateway.standin`, `ape run standin`):
OpenAI-shaped, says it is a stand-in in every answer, and reports usage the gateway can charge.
Through the official `openai` client, over real HTTP on loopback."""

import openai

from tests.gateway.gateway_support import in_process_pass_only
from tests.gateway.keys_support import Served
from vvv.gateway.standin import ANSWER, make_app


def test_chat_and_stream_say_they_are_a_stand_in():
    in_process_pass_only()
    with Served(make_app()) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused")
        # "hello there" is 11 bytes: 3 tokens; the answer is 16 words
        done = client.chat.completions.create(model="any", messages=[{"role": "user", "content": "hello there"}])
        assert done.choices[0].message.content == ANSWER and "stand-in" in ANSWER
        assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (3, 16)
        stream = client.chat.completions.create(
            model="any", messages=[{"role": "user", "content": "hi"}], max_tokens=4, stream=True,
            stream_options={"include_usage": True},
        )  # fmt: skip
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == "This is the VVV"
        assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (1, 4)
        images = client.images.generate(model="painter", prompt="a cat", n=2)
        assert len(images.data) == 2 and "stand-in" in images.data[0].revised_prompt
