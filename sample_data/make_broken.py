"""Write sample_data/broken.jsonl: every per-line rule planted at a known line.

The manifest broken.expected.txt (JSON, named .txt so that directory scans do not take it for
data) maps each line number to the exact set of rule ids that line
must produce (tests pin it). Run: python sample_data/make_broken.py [OUT_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def ok(user: str, reply: str, **extra) -> dict:
    return {"messages": [{"role": "system", "content": "You are a helpful support agent for a bike shop."},
                         {"role": "user", "content": user}, {"role": "assistant", "content": reply}], **extra}


def msgs(*m, **extra) -> dict:
    return {"messages": list(m), **extra}


def u(text):
    return {"role": "user", "content": text}


def a(text, **kw):
    return {"role": "assistant", "content": text, **kw}


WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                                                  "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}


def dump(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def lines() -> list[tuple[bytes, bytes, list[str]]]:
    """(line bytes, line ending, expected rule ids) in file order."""
    L: list[tuple[bytes, bytes, list[str]]] = []
    add = lambda data, rules, end=b"\n": L.append((data if isinstance(data, bytes) else dump(data), end, rules))
    add(b"\xef\xbb\xbf" + dump(ok("Do you sell tubes?", "Yes, we stock tubes for every wheel size.")), ["DP106"])
    add(dump(ok("Are you open on Sunday?", "We are open from ten to four on Sundays.")), ["DP111"], b"\r\n")
    add(b"   ", ["DP105"])
    add(b'{"messages": [{"role": "user", "content": "How much is shipping?"}, {"role": "assistant", "content": "Ship',
        ["DP102"])
    add(b'{"messages": [{"role": "user", "content": "caf\xe9 racer parts?"}, {"role": "assistant", "content": "Yes."}]}',
        ["DP101"])
    add(b'[{"role": "user", "content": "hi"}]', ["DP103"])
    add(b'{"messages": [{"role": "user", "content": "Hi."}, {"role": "assistant", "content": "Hello."}], '
        b'"messages": [{"role": "user", "content": "Hi there."}, {"role": "assistant", "content": "Hello, how can I help?"}]}',
        ["DP104"])
    add({"instruction": "Name a bike part.", "input": "", "output": "A derailleur."}, ["DP108"])
    add({"messages": []}, ["DP200"])
    add(ok("Do you price-match?", "We match any advertised price from a local store.", metadata={"source": "crm"}),
        ["DP201"])
    add(msgs(u("Hello?"), "assistant: hi", a("Hi, how can I help you today?")), ["DP202"])
    add(msgs({"content": "Where is my order?"}, a("Your order shipped yesterday.")), ["DP203"])
    add(msgs({"role": "bot", "content": "Where is my order?"}, a("Your order shipped yesterday.")), ["DP204"])
    add(msgs(u("Is the helmet in stock?"), a("It is back in stock this week.", timestamp=1712345678)), ["DP205"])
    add(msgs({"role": "user"}, a("Could you tell me more about the problem?")), ["DP206"])
    add(msgs(u("What is your return window?"), {"role": "assistant", "content": 30}), ["DP207"])
    add(msgs(u("Hello, anyone there?")), ["DP208"])
    add(msgs(u("Can I pay by invoice?"), a("Yes, invoices are available for business accounts."), u("Great, thanks.")),
        ["DP209"])
    add(msgs(u("Do you fit tyres?"), a("Yes, fitting is free with any tyre purchase.", weight=0.5)), ["DP210"])
    add(msgs(u("Weather in Oslo?"),
             {"role": "assistant", "content": None, "tool_calls": [
                 {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{city: Oslo}"}}]},
             {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 4}"},
             a("It is four degrees in Oslo right now."), tools=[WEATHER_TOOL]), ["DP211"])
    add(msgs(u("Weather in Bergen?"),
             {"role": "assistant", "content": None, "tool_calls": [
                 {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Bergen\"}"}}]},
             {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 7}"},
             # a result whose id matches no call (call_1 is answered, so DP218 stays silent)
             {"role": "tool", "tool_call_id": "call_9", "content": "{\"temp_c\": 7}"},
             a("It is seven degrees in Bergen right now."), tools=[WEATHER_TOOL]), ["DP212"])
    add(msgs(u("What is the weather?"), a("Which city are you asking about?"),
             tools=[{"type": "function", "function": {"name": "get weather", "parameters": {"type": "object"}}}]),
        ["DP213"])
    add(msgs(u("Weather in Rome?"),
             {"role": "assistant", "content": None, "tool_calls": [
                 {"id": "call_1", "type": "function", "function": {"name": "get_forecast", "arguments": "{\"city\": \"Rome\"}"}}]},
             {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 18}"},
             a("It is eighteen degrees in Rome right now."), tools=[WEATHER_TOOL]), ["DP214"])
    add(msgs(u("Hi."), u("Do you repair e-bikes?"), a("Yes, our workshop services e-bikes of every brand.")), ["DP215"])
    add(msgs({"role": "user", "content": [{"type": "text", "text": "What part is this?"},
                                           {"type": "image_url", "image_url": {"url": "ftp://example.com/part.png"}}]},
             a("That looks like a rear derailleur hanger.")), ["DP216"])
    add(msgs(u("Do you sell gloves?"), a("Yes, we carry gloves in five sizes.", weight=0)), ["DP217"])
    add({"input": {"messages": [u("Recommend a chain lube.")]}, "preferred_output": [a("A dry wax lube suits dusty roads.")],
         "non_preferred_output": [a("Use oil."), a("Any oil.")]}, ["DP108", "DP220"])
    add({"input": {"messages": [u("Recommend a saddle.")]}, "preferred_output": [a("A saddle that fits your sit bones.")],
         "non_preferred_output": [a("A saddle that fits your sit bones.")]}, ["DP108", "DP221"])
    add(msgs(u("Thanks for the help!"), a("  ")), ["DP300"])
    add(ok("Can you summarise my order?", "Your order has two tubes and a pump.<|endoftext|>"), ["DP301"])
    add(ok("Who handles my case?", "Hi {{customer_name}}, your case is with our workshop team."), ["DP302"])
    add(ok("Which bike is best for me?", "As an AI language model, I do not have personal preferences about bikes."),
        ["DP303"])
    add(ok("How do I reach the workshop?", "Write to jane.doe@example.com and she will book you in."), ["DP304"])
    add(ok("Can you check the API?", "Use the key sk-proj-4fJ9xQ2mZ7LpR8vT1nB6cW3yK5hD0sGa to call the stock service."),
        ["DP305"])
    add(ok("How do I adjust my brakes?", "First loosen the caliper bolt, then squeeze the lever, and the"), ["DP306"])
    add(ok("Is the shop open?", " ".join(["yes we are open today"] * 12) + "."), ["DP307"])
    add(ok("Do you have a café nearby?", "Our cafÃ© is next to the workshop."), ["DP308"])
    add(b'{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}\x00', ["DP102"])
    add(b'{"messages": [{"role": "user", "content": "Hi \\ud800"}, {"role": "assistant", "content": "Hello."}]}',
        ["DP101"])
    # Added later (issue 17); at the end so that the lines above keep their numbers.
    add({"instruction": "Name a bike part.", "input": "", "output": "<nooutput>"}, ["DP108", "DP112"])
    add(msgs(u("Weather in Oslo and Bergen?"),
             {"role": "assistant", "content": None, "tool_calls": [
                 {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}},
                 {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Bergen\"}"}}]},
             {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 4}"},
             a("It is four degrees in Oslo right now."), tools=[WEATHER_TOOL]), ["DP218"])
    add({"input": {"messages": [u("Recommend a bell."), a("A brass bell rings loudest.")]},
         "preferred_output": [a("A brass bell is loud and lasts for years.")],
         "non_preferred_output": [a("Any bell will do.")]}, ["DP108", "DP222"])
    # Clean lines so the file has well over the 10-example minimum.
    for _i, (q, r) in enumerate([
        ("Do you ship to Canada?", "Yes, we ship to Canada within five business days."),
        ("What sizes do your frames come in?", "Our frames come in sizes from small to extra large."),
        ("Can I return worn shoes?", "Shoes can be returned unworn within thirty days."),
        ("Do you offer gift cards?", "Gift cards are available in any amount from ten dollars."),
        ("Is the store wheelchair accessible?", "Yes, the store has step-free access and a ramp."),
    ]):
        add(ok(q, r), [], b"\n")
    return L


def main(out_dir: str | None = None) -> None:
    out = Path(out_dir or Path(__file__).parent)
    data = b""
    expected = {}
    for n, (line, end, rules) in enumerate(lines(), start=1):
        data += line + end
        expected[str(n)] = sorted(rules)
    (out / "broken.jsonl").write_bytes(data)
    (out / "broken.expected.txt").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
