#!/usr/bin/env python3
# ruff: noqa: E501  (a capture driver: one step per line reads best)
"""A tiny fake model API for capturing real agent CLI screens offline.

Speaks just enough of four wire protocols for the agent CLIs to run a turn:

* Anthropic Messages (``POST /v1/messages``, SSE)            -> claude (ANTHROPIC_BASE_URL)
* OpenAI Responses (``POST /v1/responses``, SSE)              -> codex (custom model provider)
* OpenAI Chat Completions (``POST /v1/chat/completions``)     -> aider (--openai-api-base)
* Gemini (``POST /v1beta/models/<m>:streamGenerateContent``)  -> gemini (GOOGLE_GEMINI_BASE_URL)

Behaviour of one turn: when the last message comes from the user and the request offers tools,
the model answers (slowly) with ONE tool call (run a shell command, or write a file); when the
last message is a tool result, it answers with a short text. Requests without tools get a short
text (or a small JSON object, which the CLIs' side calls such as routers accept).

Control it at run time (all GET, answer ``ok``):

* ``/__mode/<normal|text|error500|error529|error429|hang>``
* ``/__delay/<seconds>``  seconds before the answer starts, then the answer trickles in
* ``/__tool/<shell|write>`` which tool call to ask for
* ``/__log``              the paths of the requests seen so far (debugging)

Usage: ``python3 scripts/fake_model_api.py --port 8765 [--log /tmp/fake-api.log]``.
For capture work, and started by tests/test_real_agents.py (on a free loopback port).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"mode": "normal", "delay": 6.0, "tool": "shell"}
SEEN: list[str] = []
LOG_PATH: str | None = None
LOCK = threading.Lock()

SHELL_CMD = "echo hello > hello.txt && cat hello.txt"
FILE_NAME = "hello.py"
FILE_BODY = 'print("hello from the fake model")\n'
ANSWER = "Done. I created the file and ran the command; everything looks fine."


def log(line: str) -> None:
    with LOCK:
        SEEN.append(line)
        if LOG_PATH:
            with open(LOG_PATH, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # silence default stderr logging
        pass

    # ------------------------------------------------------------------ helpers
    def _json(self, code: int, obj) -> None:
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _sse_start(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _sse(self, data, event: str | None = None) -> None:
        chunk = ""
        if event:
            chunk += f"event: {event}\n"
        chunk += "data: " + (data if isinstance(data, str) else json.dumps(data)) + "\n\n"
        self.wfile.write(chunk.encode())
        self.wfile.flush()

    def _error(self, flavour: str) -> bool:
        mode = STATE["mode"]
        if mode == "hang":
            time.sleep(3600)
            return True
        if not mode.startswith("error"):
            return False
        code = int(mode[5:])
        msg = {500: "Internal server error", 529: "Overloaded", 429: "Rate limited"}.get(code, "error")
        if flavour == "anthropic":
            etype = {529: "overloaded_error", 429: "rate_limit_error"}.get(code, "api_error")
            self._json(code, {"type": "error", "error": {"type": etype, "message": msg}})
        elif flavour == "gemini":
            status = {429: "RESOURCE_EXHAUSTED", 529: "UNAVAILABLE"}.get(code, "INTERNAL")
            self._json(code, {"error": {"code": code, "message": msg, "status": status}})
        else:
            self._json(code, {"error": {"message": msg, "type": "server_error", "code": None}})
        return True

    def _pause(self) -> None:
        time.sleep(float(STATE["delay"]))

    # ------------------------------------------------------------------ routing
    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if parts[0] == "__mode":
            STATE["mode"] = parts[1]
        elif parts[0] == "__delay":
            STATE["delay"] = float(parts[1])
        elif parts[0] == "__tool":
            STATE["tool"] = parts[1]
        elif parts[0] == "__log":
            return self._json(200, SEEN)
        else:
            log(f"GET {self.path}")
            if self.path.rstrip("/").endswith("/models"):
                return self._json(200, {"object": "list", "data": [{"id": "gpt-4o", "object": "model"}], "models": []})
            return self._json(404, {"error": {"message": "not found"}})
        return self._json(200, "ok")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        path = self.path.split("?")[0]
        log(f"POST {self.path} mode={STATE['mode']} {raw[:300]!r}")
        if LOG_PATH:  # keep the last full request body per endpoint, for debugging the protocols
            endpoint = LOG_PATH + "." + path.rsplit("/", 1)[-1].replace(":", "_")
            with open(endpoint + ".json", "wb") as fh:
                fh.write(raw)
            with LOCK, open(endpoint + ".jsonl", "ab") as fh:  # and every one, a line each (tests read them)
                fh.write(json.dumps(body).encode() + b"\n")
        if path.endswith("/count_tokens"):
            return self._json(200, {"input_tokens": 42})
        if path.endswith(":countTokens"):
            return self._json(200, {"totalTokens": 42})
        if path.endswith("/v1/messages"):
            return self.anthropic(body)
        if path.endswith("/responses"):
            return self.openai_responses(body)
        if path.endswith("/chat/completions"):
            return self.chat(body)
        if ":streamGenerateContent" in path or ":generateContent" in path:
            return self.gemini(body, stream=":streamGenerateContent" in path)
        return self._json(404, {"error": {"message": f"fake api: unknown path {path}"}})

    # ------------------------------------------------------------------ anthropic
    def anthropic(self, body):
        if self._error("anthropic"):
            return
        tools = {t.get("name") for t in body.get("tools") or []}
        msgs = body.get("messages") or [{}]
        last = msgs[-1].get("content")
        after_tool = False  # claude merges the next user text into the tool_result message: look at the order
        for block in last if isinstance(last, list) else []:
            if block.get("type") == "tool_result":
                after_tool = True
            elif block.get("type") == "text" and not block.get("text", "").startswith("<system-reminder>"):
                after_tool = False
        log(f"  anthropic: tools={len(tools)} after_tool={after_tool} last={json.dumps(last)[:200]}")
        use_tool = None
        if not after_tool and "Bash" in tools and STATE["tool"] == "shell":
            use_tool = ("Bash", {"command": SHELL_CMD, "description": "Create hello.txt and show it"})
        elif not after_tool and "Write" in tools:
            use_tool = ("Write", {"file_path": FILE_NAME, "content": FILE_BODY})
        usage = {"input_tokens": 120, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        msg = {"id": "msg_fake", "type": "message", "role": "assistant", "model": body.get("model", "claude"),
               "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}
        text = ANSWER if tools else "Fake title"
        if not body.get("stream"):
            self._pause()
            msg["content"] = [{"type": "text", "text": text}]
            msg["stop_reason"] = "end_turn"
            return self._json(200, msg)
        self._sse_start()
        self._sse({"type": "message_start", "message": msg}, "message_start")
        self._pause()
        if use_tool:
            self._sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}, "content_block_start")
            self._sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "I'll do that now."}}, "content_block_delta")
            self._sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
            self._sse({"type": "content_block_start", "index": 1,
                       "content_block": {"type": "tool_use", "id": f"toolu_fake{int(time.time())}", "name": use_tool[0], "input": {}}},
                      "content_block_start")
            self._sse({"type": "content_block_delta", "index": 1,
                       "delta": {"type": "input_json_delta", "partial_json": json.dumps(use_tool[1])}}, "content_block_delta")
            self._sse({"type": "content_block_stop", "index": 1}, "content_block_stop")
            stop = "tool_use"
        else:
            self._sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}, "content_block_start")
            for word in text.split(" "):
                self._sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word + " "}}, "content_block_delta")
                time.sleep(0.15)
            self._sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
            stop = "end_turn"
        self._sse({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 30}}, "message_delta")
        self._sse({"type": "message_stop"}, "message_stop")

    # ------------------------------------------------------------------ openai responses
    def openai_responses(self, body):
        if self._error("openai"):
            return
        tools = {t.get("name") or t.get("type") for t in body.get("tools") or []}
        items = body.get("input") or [{}]
        last = items[-1] if isinstance(items, list) else {}
        after_tool = isinstance(last, dict) and last.get("type", "").endswith("_output")
        self._sse_start()
        rid = f"resp_fake{int(time.time() * 1000)}"
        self._sse({"type": "response.created", "response": {"id": rid}}, "response.created")
        self._pause()
        item = None
        if not after_tool:
            if STATE["tool"] == "write" and "apply_patch" in tools:
                patch = f"*** Begin Patch\n*** Add File: {FILE_NAME}\n+{FILE_BODY.rstrip()}\n*** End Patch\n"
                item = {"type": "function_call", "name": "apply_patch", "call_id": "call_1", "id": "fc_1",
                        "arguments": json.dumps({"input": patch})}
            elif "shell_command" in tools:
                item = {"type": "function_call", "name": "shell_command", "call_id": "call_1", "id": "fc_1",
                        "arguments": json.dumps({"command": SHELL_CMD, "workdir": None})}
            elif "exec_command" in tools:
                item = {"type": "function_call", "name": "exec_command", "call_id": "call_1", "id": "fc_1",
                        "arguments": json.dumps({"cmd": SHELL_CMD, "sandbox_permissions": "require_escalated",
                                                 "justification": "Allow writing hello.txt in the repository?"})}
            elif "shell" in tools:
                item = {"type": "function_call", "name": "shell", "call_id": "call_1", "id": "fc_1",
                        "arguments": json.dumps({"command": ["bash", "-lc", SHELL_CMD]})}
        if item is None:
            text = ANSWER if tools else '{"title": "fake"}'
            self._sse({"type": "response.output_item.added", "output_index": 0,
                       "item": {"type": "message", "role": "assistant", "id": "msg_1", "content": []}}, "response.output_item.added")
            for word in text.split(" "):
                self._sse({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
                           "content_index": 0, "delta": word + " "}, "response.output_text.delta")
                time.sleep(0.15)
            item = {"type": "message", "role": "assistant", "id": "msg_1",
                    "content": [{"type": "output_text", "text": text, "annotations": []}]}
        self._sse({"type": "response.output_item.done", "output_index": 0, "item": item}, "response.output_item.done")
        usage = {"input_tokens": 120, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 30,
                 "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 150}
        self._sse({"type": "response.completed", "response": {"id": rid, "usage": usage}}, "response.completed")

    # ------------------------------------------------------------------ openai chat (aider)
    def chat(self, body):
        if self._error("openai"):
            return
        msgs = body.get("messages") or [{}]
        content = msgs[-1].get("content")
        if isinstance(content, list):
            content = " ".join(c.get("text", "") for c in content if isinstance(c, dict))
        content = content or ""
        # The task prompt asks to create something; aider's own follow-ups ("I added these files...",
        # command output) get a plain answer.
        first_turn = "create" in content.lower() and "I added these files" not in content
        if first_turn:
            text = (f"I'll create the file.\n\n{FILE_NAME}\n```python\n<<<<<<< SEARCH\n=======\n{FILE_BODY}"
                    f">>>>>>> REPLACE\n```\n\nThen run it:\n\n```bash\npython3 {FILE_NAME}\n```\n")
        else:
            text = ANSWER
        created = int(time.time())
        if not body.get("stream"):
            self._pause()
            return self._json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": created,
                                    "model": body.get("model"), "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": text}}],
                                    "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}})
        self._sse_start()
        self._pause()
        for i in range(0, len(text), 12):
            self._sse({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": body.get("model"),
                       "choices": [{"index": 0, "delta": {"role": "assistant", "content": text[i:i + 12]}, "finish_reason": None}]})
            time.sleep(0.08)
        self._sse({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": body.get("model"),
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}})
        self._sse("[DONE]")

    # ------------------------------------------------------------------ gemini
    def gemini(self, body, stream):
        if self._error("gemini"):
            return
        decls = [d.get("name") for t in body.get("tools") or [] for d in t.get("functionDeclarations") or []]
        contents = body.get("contents") or [{}]
        parts = contents[-1].get("parts") or []
        after_tool = any("functionResponse" in p for p in parts)
        usage = {"promptTokenCount": 120, "candidatesTokenCount": 30, "totalTokenCount": 150}
        if not decls or not stream:
            text = '{"reasoning": "fake", "next_speaker": "user", "model_choice": "flash", "complexity_score": 10}'
            self._pause() if stream else None
            cand = {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}
            if stream:
                self._sse_start()
                self._sse({"candidates": [cand], "usageMetadata": usage})
                return
            return self._json(200, {"candidates": [cand], "usageMetadata": usage})
        self._sse_start()
        self._pause()
        call = None
        if not after_tool:
            if STATE["tool"] == "write" and "write_file" in decls:
                call = {"name": "write_file", "args": {"file_path": FILE_NAME, "content": FILE_BODY}}
            elif "run_shell_command" in decls:
                call = {"name": "run_shell_command", "args": {"command": SHELL_CMD, "description": "Create hello.txt"}}
        if call:
            cand = {"content": {"role": "model", "parts": [{"text": "I'll do that now.\n"}, {"functionCall": call}]},
                    "finishReason": "STOP", "index": 0}
            self._sse({"candidates": [cand], "usageMetadata": usage})
            return
        words = ANSWER.split(" ")
        for i, word in enumerate(words):
            cand = {"content": {"role": "model", "parts": [{"text": word + " "}]}, "index": 0}
            if i == len(words) - 1:
                cand["finishReason"] = "STOP"
            self._sse({"candidates": [cand], "usageMetadata": usage})
            time.sleep(0.15)


def main() -> None:
    global LOG_PATH
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--delay", type=float, default=6.0)
    ap.add_argument("--log")
    args = ap.parse_args()
    STATE["delay"] = args.delay
    LOG_PATH = args.log
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"fake model api on http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
