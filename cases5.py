[
 ("tcp port taken on 127.0.0.1, ask any", net(ports=[{"host_port":41080,"container_port":80}])),
 ("tcp port taken on 127.0.0.1, ask 192.0.2.2", net(ports=[{"host_port":41080,"container_port":80,"host_ip":"192.0.2.2"}])),
 ("udp port taken", net(ports=[{"host_port":41081,"container_port":80,"protocol":"udp"}])),
 ("ipv6 host_ip on v4 net", net(ports=[{"host_port":41082,"container_port":80,"host_ip":"::1"}])),
]
