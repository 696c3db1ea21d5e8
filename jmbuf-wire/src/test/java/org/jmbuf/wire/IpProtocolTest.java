package org.jmbuf.wire;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IpProtocolTest {
    @Test
    void extensionHeadersAreTheRegistryOnes() {
        for (int protocol : new int[] {IpProtocol.HOP_BY_HOP, IpProtocol.IPV6_ROUTING, IpProtocol.IPV6_FRAGMENT,
                IpProtocol.ESP, IpProtocol.AH, IpProtocol.IPV6_DESTINATION, 135, 139, 140, 253, 254}) {
            assertTrue(IpProtocol.isIpv6ExtensionHeader(protocol), "protocol " + protocol);
        }
        for (int protocol : new int[] {IpProtocol.ICMP, IpProtocol.IGMP, IpProtocol.TCP, IpProtocol.UDP,
                IpProtocol.ICMPV6, IpProtocol.IPV6_NO_NEXT, 41, 255, -1, 256}) {
            assertFalse(IpProtocol.isIpv6ExtensionHeader(protocol), "protocol " + protocol);
        }
    }
}
