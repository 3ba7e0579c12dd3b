"""The two UDP peers of a proxy under test (sipp_proxy_test.sh): the next hop, bound to the
port the proxy forwards to, and a client on a free port."""
import socket


def udp_peers(hop, downstream_timeout, client_timeout):
    downstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    downstream.bind(("127.0.0.1", hop))
    downstream.settimeout(downstream_timeout)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.settimeout(client_timeout)
    return downstream, client, client.getsockname()[1]
