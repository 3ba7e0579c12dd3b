#!/usr/bin/env python3
"""Writes a SIPp caller scenario for the ESRP tests: an emergency INVITE (then ACK, BYE) or a
text-to-911 MESSAGE, with the caller's location given one way or another:
  value    PIDF-LO by value (geodetic point), Geolocation cid:
  civic    PIDF-LO by value (civic address)
  ref URL  location by reference (Geolocation: <URL>), HELD dereference
  none     no Geolocation at all
  garbled  Geolocation cid: naming a PIDF-LO that is not XML
With --callee-hangs-up (INVITE only) the caller, after its ACK, waits for the PSAP's BYE and
answers it instead of sending one.
usage: make_uac.py INVITE|MESSAGE value|civic|none|garbled|ref URL [--callee-hangs-up] > scenario.xml"""
import sys

PIDF_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
             'xmlns:gml="http://www.opengis.net/gml" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" '
             'xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" entity="pres:caller@example.com">\n')
POINT = ('<dm:device id="d1"><gp:geopriv><gp:location-info><gml:Point srsName="urn:ogc:def:crs:EPSG::4326">'
         '<gml:pos>30.2672 -97.7431</gml:pos></gml:Point></gp:location-info><gp:usage-rules/>'
         '<gp:method>GPS</gp:method></gp:geopriv></dm:device>\n')
CIVIC = ('<dm:device id="d1"><gp:geopriv><gp:location-info><ca:civicAddress><ca:country>US</ca:country>'
         '<ca:A1>TX</ca:A1><ca:A2>Travis</ca:A2><ca:A3>Austin</ca:A3><ca:RD>Congress</ca:RD><ca:STS>Avenue</ca:STS>'
         '<ca:HNO>100</ca:HNO></ca:civicAddress></gp:location-info><gp:usage-rules/><gp:method>Manual</gp:method>'
         '</gp:geopriv></dm:device>\n')
SDP = ('v=0\no=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]\ns=-\nc=IN IP[media_ip_type] [media_ip]\n'
       't=0 0\nm=audio [media_port] RTP/AVP 0\na=rtpmap:0 PCMU/8000\n')
TEXT = 'Help, there is a fire at my neighbour\'s house.\n'


def main():
    args = [a for a in sys.argv[1:] if a != '--callee-hangs-up']
    callee_hangs_up = len(args) != len(sys.argv) - 1
    sys.argv = [sys.argv[0]] + args
    method, how = sys.argv[1], sys.argv[2]
    first = SDP if method == 'INVITE' else TEXT
    first_type = 'application/sdp' if method == 'INVITE' else 'text/plain'
    geo, pidf = '', None
    if how == 'value':
        pidf = PIDF_HEAD + POINT + '</presence>\n'
    elif how == 'civic':
        pidf = PIDF_HEAD + CIVIC + '</presence>\n'
    elif how == 'garbled':
        pidf = '<presence xmlns="urn:ietf:params:xml:ns:pidf"><dm:device <<< not xml\n'
    elif how == 'ref':
        geo = 'Geolocation: <%s>\n      ' % sys.argv[3]
    if pidf is not None:
        geo = 'Geolocation: <cid:loc1@example.com>\n      '
        body = ('--bnd\nContent-Type: %s\n\n%s--bnd\nContent-Type: application/pidf+xml\nContent-ID: <loc1@example.com>\n\n'
                '%s--bnd--\n' % (first_type, first, pidf))
        ctype = 'multipart/mixed;boundary=bnd'
    else:
        body, ctype = first, first_type
    request = ('      %s urn:service:sos SIP/2.0\n'
               '      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n'
               '      From: sipp <sip:+15125550100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n'
               '      To: <urn:service:sos>\n'
               '      Call-ID: [call_id]\n'
               '      CSeq: 1 %s\n'
               '      Contact: sip:sipp@[local_ip]:[local_port]\n'
               '      Max-Forwards: 70\n'
               '      %sContent-Type: %s\n'
               '      Content-Length: [len]\n\n%s') % (method, method, geo, ctype, body)
    out = ['<?xml version="1.0" encoding="ISO-8859-1" ?>', '<scenario name="emergency %s, location %s">' % (method, how),
           '  <send retrans="500">', '    <![CDATA[', request, '    ]]>', '  </send>']
    if method == 'MESSAGE':
        out += ['  <recv response="200" timeout="15000"/>']
    else:
        dialog = ('      %s [next_url] SIP/2.0\n      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n'
                  '      [routes]\n      From: sipp <sip:+15125550100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n'
                  '      To: <urn:service:sos>[peer_tag_param]\n      Call-ID: [call_id]\n      CSeq: %s\n'
                  '      Max-Forwards: 70\n      Content-Length: 0\n\n')
        out += ['  <recv response="100" optional="true"/>', '  <recv response="180" optional="true"/>',
                '  <recv response="200" rrs="true" timeout="15000"/>',
                '  <send>', '    <![CDATA[', dialog % ('ACK', '1 ACK'), '    ]]>', '  </send>']
        if callee_hangs_up:
            ok = ('      SIP/2.0 200 OK\n      [last_Via:]\n      [last_From:]\n      [last_To:]\n      [last_Call-ID:]\n'
                  '      [last_CSeq:]\n      Content-Length: 0\n\n')
            out += ['  <recv request="BYE" timeout="15000"/>', '  <send>', '    <![CDATA[', ok, '    ]]>', '  </send>']
        else:
            out += ['  <send retrans="500">', '    <![CDATA[', dialog % ('BYE', '2 BYE'), '    ]]>', '  </send>',
                    '  <recv response="200" timeout="15000"/>']
    out.append('</scenario>')
    print('\n'.join(out))


main()
