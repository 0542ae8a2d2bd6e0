"""Runs RabbitMQ's STOMP python suite (rabbitmq-server deps/rabbitmq_stomp/test/python_SUITE_data/src,
kept outside this repository: MPL 2.0) with the Debian stomp.py and pika, without the pip
installs its own runner does. Usage: run_suite.py <suite src dir> [module[:test] ...]"""
import sys
import unittest

MODULES = ['parsing', 'errors', 'connect_disconnect', 'ack', 'amqp_headers', 'queue_properties',
           'reliability', 'transactions', 'x_queue_name', 'destinations', 'redelivered',
           'topic_permissions', 'unsubscribe', 'x_queue_type_quorum', 'x_queue_type_stream']

sys.path.insert(0, sys.argv[1])
suite = unittest.TestSuite()
for spec in sys.argv[2:] or MODULES:
    name, _, only = spec.partition(':')
    module = __import__(name)
    for attr in dir(module):
        case = getattr(module, attr)
        if attr.startswith('Test') and isinstance(case, type) and issubclass(case, unittest.TestCase):
            if not only:
                suite.addTest(unittest.TestLoader().loadTestsFromTestCase(case))
            elif hasattr(case, only):
                suite.addTest(case(only))
result = unittest.TextTestRunner(verbosity=2).run(suite)
print('RESULT run=%d failures=%d errors=%d' % (result.testsRun, len(result.failures), len(result.errors)))
