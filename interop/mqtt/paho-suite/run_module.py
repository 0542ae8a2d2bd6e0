# Runs one module of Eclipse Paho's MQTT interoperability suite (client_test.py or
# client_test5.py) against HOST:PORT. Their own option parsing cannot do it: getopt takes
# "-h" for "--help", and unittest.main() rejects "--hostname"/"--port".
# Usage (from the suite's interoperability/ directory):
#   python3 run_module.py client_test5.py 127.0.0.1 1883 [Test.test_name ...]
import getopt
import os
import runpy
import sys
import unittest

script, host, port, *tests = sys.argv[1:]
sys.path.insert(0, os.getcwd())
real_main = unittest.main
unittest.main = lambda *a, **k: real_main(argv=[script, "-v", *tests], exit=False)
getopt.gnu_getopt = lambda args, short, long: ([("--hostname", host), ("--port", port)], [])
# client_test5.py removes the port option and its value from sys.argv.
sys.argv = [script, "--port", port]
runpy.run_path(script, run_name="__main__")
