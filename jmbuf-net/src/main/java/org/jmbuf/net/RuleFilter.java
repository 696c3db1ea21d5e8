package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.wire.Bytes;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;

/**
 * A small stateless rule filter, the example {@link PacketFilter}: an ordered list of rules matched
 * against direction, source and destination prefix, protocol and (for TCP and UDP) destination port;
 * the first rule that matches decides, and a packet no rule matches passes. Its rules are IPv4 rules:
 * an IPv6 packet always passes. It reads only the bytes it
 * needs, through {@link Mbuf#ptr}: the IPv4 header and, for port rules, the first four bytes of the
 * transport header. It never makes a packet writable.
 */
public final class RuleFilter implements PacketFilter {
    /**
     * One rule; null (or -1 for numbers) matches anything.
     *
     * @param verdict         what a match decides
     * @param direction       the direction, or null for both
     * @param source          the source prefix, or null
     * @param sourceLength    its length in bits
     * @param destination     the destination prefix, or null
     * @param destinationLength its length in bits
     * @param protocol        the IP protocol number, or -1
     * @param destinationPort the TCP or UDP destination port, or -1
     */
    public record Rule(Verdict verdict, Direction direction, Ipv4Address source, int sourceLength,
            Ipv4Address destination, int destinationLength, int protocol, int destinationPort) {
        public Rule {
            Objects.requireNonNull(verdict, "verdict");
        }

        /** A rule on protocol and destination port only, both directions. */
        public static Rule port(Verdict verdict, int protocol, int destinationPort) {
            return new Rule(verdict, null, null, 0, null, 0, protocol, destinationPort);
        }

        /** A rule on the source prefix only, both directions. */
        public static Rule from(Verdict verdict, Ipv4Address prefix, int length) {
            return new Rule(verdict, null, prefix, length, null, 0, -1, -1);
        }
    }

    private final List<Rule> rules = new ArrayList<>();
    private final List<long[]> hits = new ArrayList<>();
    private final Ipv4Header view = new Ipv4Header();

    /** Appends a rule; rules are tried in the order added. */
    public RuleFilter add(Rule rule) {
        rules.add(Objects.requireNonNull(rule, "rule"));
        hits.add(new long[1]);
        return this;
    }

    /** How many packets rule {@code index} (in the order added) decided. */
    public long hits(int index) {
        return hits.get(index)[0];
    }

    @Override
    public Verdict filter(Mbuf packet, Direction direction, NetworkInterface ifp) {
        if ((packet.byteAt(0) & 0xf0) != 0x40) {
            return Verdict.PASS;
        }
        int headerLength = (packet.byteAt(0) & 0xf) * 4;
        Ipv4Header ip = view.wrap(packet.ptr(0, headerLength));
        int protocol = ip.protocol();
        int port = -1;
        boolean hasPorts = (protocol == IpProtocol.TCP || protocol == IpProtocol.UDP) && ip.fragmentOffset() == 0
                && packet.length() >= headerLength + 4;
        Ipv4Address source = ip.source();
        Ipv4Address destination = ip.destination();
        for (int i = 0; i < rules.size(); i++) {
            Rule r = rules.get(i);
            if (r.direction() != null && r.direction() != direction
                    || r.source() != null && !source.isIn(r.source(), r.sourceLength())
                    || r.destination() != null && !destination.isIn(r.destination(), r.destinationLength())
                    || r.protocol() >= 0 && r.protocol() != protocol) {
                continue;
            }
            if (r.destinationPort() >= 0) {
                if (!hasPorts) {
                    continue;
                }
                if (port < 0) {
                    MemorySegment ports = packet.ptr(headerLength, 4);
                    port = Bytes.u16(ports, 2);
                }
                if (port != r.destinationPort()) {
                    continue;
                }
            }
            hits.get(i)[0]++;
            return r.verdict();
        }
        return Verdict.PASS;
    }
}
