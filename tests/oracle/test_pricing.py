"""Price table: the shipped example file, costs to the wei, and a clear error per bad line."""

import pytest

from tests.passes import IN_PROCESS
from vvv.oracle.pricing import PricingError, load_prices

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)

E18 = 10**18


@pytest.fixture(scope="module")
def prices():
    return load_prices()


def test_example_prices_load(prices):
    assert set(prices.models) == {
        "llama-3.3-70b", "llama-3.2-3b", "qwen-2.5-coder-32b", "deepseek-r1-671b", "flux-dev", "stable-diffusion-3.5",
    }  # fmt: skip
    p = prices.price("llama-3.3-70b")
    assert (p.kind, p.per_1m_input, p.per_1m_output) == ("chat", 7 * E18 // 10, 28 * E18 // 10)
    assert prices.price("flux-dev").per_image == 8 * E18 // 100
    # the columns the gateway bounds requests with
    assert prices.price("llama-3.3-70b").per_image_input == 35 * E18 // 10_000  # 0.0035 VCU
    assert prices.price("llama-3.2-3b").per_image_input == 0
    assert prices.price("flux-dev").sizes == ("1024x1024", "512x512", "768x768", "1024x768", "768x1024")


def test_a_chats_worst_case_adds_its_image_parts(prices):
    # 1,000 in x 0.70 / 1M + 500 out x 2.80 / 1M = 0.0021 VCU, plus 3 image parts x 0.0035 = 0.0105 VCU
    assert prices.chat_worst_case("llama-3.3-70b", 1_000, 500, 3) == 2_100_000_000_000_000 + 10_500_000_000_000_000
    assert prices.chat_worst_case("llama-3.2-3b", 1, 0, 0) == 150_000_000_000
    with pytest.raises(PricingError, match="llama-3.2-3b takes no image input"):
        prices.chat_worst_case("llama-3.2-3b", 1, 0, 1)


def test_the_older_five_column_header_still_loads(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("kind,model,vcu_per_1m_input,vcu_per_1m_output,vcu_per_image\nchat,m,1,2,\nimage,i,,,5\n")
    prices = load_prices(path)
    assert (prices.price("m").per_image_input, prices.price("i").sizes) == (0, ())


@pytest.mark.parametrize(
    "model, tokens_in, tokens_out, images, expected",
    [
        # 1,000 in x 0.70 / 1M + 500 out x 2.80 / 1M = 0.0007 + 0.0014 = 0.0021 VCU
        ("llama-3.3-70b", 1_000, 500, 0, 2_100_000_000_000_000),
        # 1M in x 2.20 + 1M out x 8.80 = 11 VCU
        ("deepseek-r1-671b", 1_000_000, 1_000_000, 0, 11 * E18),
        # 1 token in x 0.15 / 1M = 0.00000015 VCU = 150,000,000,000 wei exactly
        ("llama-3.2-3b", 1, 0, 0, 150_000_000_000),
        # 3 images x 0.08 = 0.24 VCU
        ("flux-dev", 0, 0, 3, 24 * E18 // 100),
        ("stable-diffusion-3.5", 0, 0, 1, 8 * E18 // 100),
        ("llama-3.3-70b", 0, 0, 0, 0),
    ],
)
def test_costs(prices, model, tokens_in, tokens_out, images, expected):
    assert prices.cost(model, tokens_in, tokens_out, images) == expected


def test_cost_rounds_up_to_the_wei(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("kind,model,vcu_per_1m_input,vcu_per_1m_output,vcu_per_image\nchat,m,0.000000000001,0,\n")
    # 1 token x 1e6 wei / 1M = 1 wei; 1 token x 1e-12 VCU/1M = 1e6 wei / 1e6 -> 1 wei; 3 tokens of a
    # 1-wei-per-1M price = 3/1e6 wei -> rounds up to 1 wei
    prices = load_prices(path)
    assert prices.cost("m", 1, 0) == 1
    path.write_text("kind,model,vcu_per_1m_input,vcu_per_1m_output,vcu_per_image\nchat,m,0.000000000000000001,0,\n")
    assert load_prices(path).cost("m", 3, 0) == 1


def test_cost_errors(prices):
    with pytest.raises(PricingError, match="unknown model 'gpt-9'"):
        prices.cost("gpt-9", 1, 1)
    with pytest.raises(PricingError, match="chat model"):
        prices.cost("llama-3.3-70b", images=1)
    with pytest.raises(PricingError, match="image model"):
        prices.cost("flux-dev", 10, 0, 1)
    with pytest.raises(PricingError, match=">= 0"):
        prices.cost("llama-3.3-70b", -1, 0)


HEADER = "kind,model,vcu_per_1m_input,vcu_per_1m_output,vcu_per_image,vcu_per_image_input,image_sizes\n"


@pytest.mark.parametrize(
    "body, message",
    [
        ("chat,a,1,1,,,\nchat,b,-1,1,,,\n", "p.csv:3: must be non-negative"),
        ("chat,a,1,1,,,\nchat,a,1,1,,,\n", "p.csv:3: model 'a' is listed twice"),
        ("chat,a,1,x,,,\n", "p.csv:2: not a number"),
        ("chat,a,1,1,5,,\n", "p.csv:2: a chat model has no image price"),
        ("chat,a,1,1,,,512x512\n", "p.csv:2: a chat model has no image price (nor image sizes)"),
        ("chat,a,1,1,,0,\n", "p.csv:2: must be positive"),
        ("image,a,1,,0.5,,\n", "p.csv:2: an image model has no token prices"),
        ("image,a,,,0.5,1,\n", "p.csv:2: an image model has no token prices (nor an image-input price)"),
        ("image,a,,,0.5,,512\n", "p.csv:2: image size '512' is not WxH with sides from 1 to 16,384"),
        ("image,a,,,0.5,,0x512\n", "p.csv:2: image size '0x512' is not WxH"),
        ("image,a,,,0.5,,512x512 512x512\n", "p.csv:2: an image size is listed twice"),
        ("image,a,,,0.5,,\n# comment\nimage,b,,,0.6,,\n", "p.csv:4: all image models share one price"),
        ("video,a,1,1,,,\n", "p.csv:2: kind must be chat or image"),
        ("chat,a,1,1\n", "p.csv:2: expected 7 fields, found 4"),
        ("chat,a,0.0000000000000000001,1,,,\n", "p.csv:2: more than 18 decimals"),
        ("image,a,,,0,,\n", "p.csv:2: must be positive"),
    ],
)
def test_bad_lines_are_named(tmp_path, body, message):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + body)
    with pytest.raises(PricingError) as err:
        load_prices(path)
    assert message in str(err.value)


def test_bad_header_and_missing_file(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("model,kind\n")
    with pytest.raises(PricingError, match="p.csv:1: expected the header"):
        load_prices(path)
    with pytest.raises(PricingError, match="no such price file"):
        load_prices(tmp_path / "missing.csv")
