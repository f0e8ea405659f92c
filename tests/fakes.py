"""Local HTTP servers standing in for Twilio's and Africa's Talking's APIs (no mocking of our code)."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeGateway:
    """Answers each POST with the next scripted (status, JSON) reply, and records what it got."""

    def __init__(self, replies: list[tuple[int, dict]] | None = None, default: tuple[int, dict] | None = None):
        self.replies = list(replies or [])
        self.default = default
        self.requests: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                gateway.requests.append({"path": self.path, "form": form, "headers": dict(self.headers)})
                status, body = gateway.replies.pop(0) if gateway.replies else gateway.default
                if callable(body):
                    body = body(form)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> FakeGateway:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def twilio_message(form: dict) -> dict:
    return {"sid": "SM" + uuid.uuid4().hex, "status": "queued", "to": form.get("To"), "body": form.get("Body")}


def twilio_error(code: int, status: int = 400, message: str = "error") -> tuple[int, dict]:
    return status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status}  # fmt: skip


def at_reply(status_code: int, status: str, number: str = "+256712345678") -> tuple[int, dict]:
    recipient = {"statusCode": status_code, "number": number, "status": status, "cost": "UGX 30",
                 "messageId": "ATXid_1" if status_code < 200 else "None"}  # fmt: skip
    return 201, {"SMSMessageData": {"Message": "Sent to 1/1", "Recipients": [recipient]}}
