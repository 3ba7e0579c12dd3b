/dial sip:service@127.0.0.1:50469
/hangup
/quit
