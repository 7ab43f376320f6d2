"""A small fake of the floatlb/loxilb REST API for the operator tests: rules by (ip, port, proto),
409 for an identical re-POST, 404 on deleting a missing rule, cistate, bfd (heartbeat HA on/off),
and a 'down' switch that drops connections without an answer. Every request is logged."""
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLoxilb:
    def __init__(self):
        self.rules = {}
        self.cistate = {}
        self.down = False
        self.ka = False
        self.log = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                # Headers and body go out in two writes: without NODELAY, Nagle holds the body until
                # the client's delayed ACK (40 ms per request on a keep-alive connection).
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _send(self, code, obj):
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                if fake.down:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                with fake.lock:
                    fake.log.append((method, self.path))
                    code, obj = fake.route(method, self.path, body)
                self._send(code, obj)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_DELETE(self):
                self._handle("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def route(self, method, path, body):
        if method == "GET" and path == "/netlox/v1":
            return 200, {}
        if method == "GET" and path == "/netlox/v1/config/bfd/all":
            return (200, {"Attr": []}) if self.ka else (500, {"message": "bfd session not running"})
        if method == "GET" and path == "/netlox/v1/config/cistate/all":
            return 200, {"Attr": [{"instance": k, "state": v, "vip": "0.0.0.0"} for k, v in self.cistate.items()]}
        if method == "POST" and path == "/netlox/v1/config/cistate":
            j = json.loads(body)
            self.cistate[j["instance"]] = j["state"]
            return 200, {"result": "Success"}
        if method == "GET" and path == "/netlox/v1/config/loadbalancer/all":
            return 200, {"lbAttr": list(self.rules.values())}
        if method == "POST" and path == "/netlox/v1/config/loadbalancer":
            j = json.loads(body)
            sa = j["serviceArguments"]
            key = "%s:%d/%s" % (sa["externalIP"], sa["port"], sa["protocol"])
            if self.rules.get(key) == j:
                return 409, {"code": 409, "result": "lbrule-exists error"}
            self.rules[key] = j
            return 200, {"result": "Success"}
        pre = "/netlox/v1/config/loadbalancer/externalipaddress/"
        if method == "DELETE" and path.startswith(pre):
            parts = path[len(pre):].split("?")[0].split("/")  # ip port P protocol PROTO
            key = "%s:%s/%s" % (parts[0], parts[2], parts[4])
            if self.rules.pop(key, None) is None:
                return 404, {"result": "no-rule error"}
            return 200, {"result": "Success"}
        return 404, {"message": "not found"}

    def count(self, method, prefix="", since=0):
        with self.lock:
            return sum(1 for m, p in self.log[since:] if m == method and p.startswith(prefix))

    def names(self):
        with self.lock:
            return sorted(r["serviceArguments"]["name"] for r in self.rules.values())

    def rule(self, name):
        with self.lock:
            for r in self.rules.values():
                if r["serviceArguments"]["name"] == name:
                    return r
        return None

    def close(self):
        self.server.shutdown()
