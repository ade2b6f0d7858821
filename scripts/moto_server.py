"""Local DynamoDB + DynamoDB Streams stand-in: moto in server mode, serialised.

moto's server handles each connection on its own thread, and its DynamoDB
backend does not lock around TransactWriteItems, so two conflicting
transactions can interleave there although they never can in DynamoDB. We
keep the threads (so idle keep-alive connections never block others) but
let one request at a time into the backend. Bound to 127.0.0.1 by default.
"""

import argparse
import signal
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


class Serialised:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            # Materialise the body inside the lock: moto builds responses lazily.
            return list(self.app(environ, start_response))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, Serialised(app), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
