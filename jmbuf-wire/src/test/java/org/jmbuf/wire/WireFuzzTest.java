package org.jmbuf.wire;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import java.util.function.Function;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Arbitrary bytes given to every view and cursor: each either accepts them or throws
 * {@link MalformedPacketException}, and once it has accepted them no accessor reads outside the view (the
 * segment would throw {@link IndexOutOfBoundsException}) or throws anything but the documented
 * {@link IllegalStateException} for a field the message type does not have.
 */
class WireFuzzTest {
    private static <V> void parseThen(MemorySegment bytes, Function<MemorySegment, V> of, Consumer<V> read) {
        V view;
        try {
            view = of.apply(bytes);
        } catch (MalformedPacketException e) {
            assertTrue(e.offset() >= 0 && e.offset() < Math.max(1, bytes.byteSize()), "offset " + e.offset());
            return;
        }
        read.accept(view);
        view.toString();
    }

    private static void ignoringMissingField(Runnable read) {
        try {
            read.run();
        } catch (IllegalStateException fieldNotInThisType) {
            // documented: the accessor does not apply to this message type
        }
    }

    /** Well-formed packets from the other tests, to mutate: random bytes rarely get past the first check. */
    private static final byte[][] SAMPLES = {
            EthernetFrameTest.TAGGED, ArpPacketTest.REQUEST, ArpPacketTest.ODD_SIZES,
            Ipv6ExtensionHeaderTest.DESTINATION, Ipv6RoutingHeaderTest.TYPE_0, Icmpv6MessageTest.RA,
            Icmpv6MessageTest.NS, Icmpv6MessageTest.REDIRECT, TcpHeaderTest.SYN};

    @Property(tries = 2000)
    void viewsAcceptOrRejectCleanly(@ForAll @Size(max = 80) byte[] data) {
        exerciseEveryView(MemorySegment.ofArray(data).asReadOnly());
    }

    @Property(tries = 3000)
    void mutatedPacketsAreAcceptedOrRejectedCleanly(@ForAll @IntRange(max = 8) int sample,
            @ForAll @IntRange(max = 63) int position, @ForAll byte value, @ForAll @IntRange(max = 64) int cut) {
        byte[] data = SAMPLES[sample].clone();
        data[position % data.length] = value;
        exerciseEveryView(MemorySegment.ofArray(data).asSlice(0, Math.min(cut, data.length)).asReadOnly());
        walkEveryCursor(MemorySegment.ofArray(data).asSlice(position % data.length).asReadOnly());
    }

    private static void exerciseEveryView(MemorySegment bytes) {
        parseThen(bytes, EthernetFrame::of, frame -> {
            frame.payload();
            frame.etherType();
            ignoringMissingField(frame::vlanId);
        });
        parseThen(bytes, ArpPacket::of, arp -> {
            arp.senderHardwareAddress();
            arp.senderProtocolAddress();
            arp.targetHardwareAddress();
            arp.targetProtocolAddress();
            ignoringMissingField(arp::targetIp);
            ignoringMissingField(arp::targetMac);
        });
        parseThen(bytes, Ipv6Header::of, ip -> {
            ip.payload();
            ip.source();
            ip.destination();
        });
        parseThen(bytes, Ipv6ExtensionHeader::of, header -> {
            try {
                walk(new Ipv6OptionCursor().reset(header));
            } catch (MalformedPacketException e) {
                assertTrue(e.offset() >= 2 && e.offset() < header.length(), "offset " + e.offset());
            }
        });
        parseThen(bytes, Ipv6RoutingHeader::of, routing -> {
            routing.data();
            try {
                for (int i = 0; i < routing.addressCount(); i++) {
                    routing.address(i);
                }
            } catch (IllegalStateException | MalformedPacketException documented) {
                // not type 0 or 2, or an odd length
            }
        });
        parseThen(bytes, Ipv6FragmentHeader::of, Ipv6FragmentHeader::payload);
        parseThen(bytes, IcmpMessage::of, icmp -> {
            icmp.body();
            icmp.gateway();
            icmp.isChecksumValid();
        });
        parseThen(bytes, Icmpv6Message::of, icmp -> {
            icmp.body();
            ignoringMissingField(icmp::targetAddress);
            ignoringMissingField(icmp::redirectDestination);
            ignoringMissingField(icmp::retransTimer);
            ignoringMissingField(icmp::isOverride);
            try {
                walk(new NdOptionCursor().reset(icmp.ndOptions()));
            } catch (IllegalStateException notNeighborDiscovery) {
                // documented
            } catch (MalformedPacketException malformedOptions) {
                // what a bad options area does
            }
        });
        parseThen(bytes, UdpHeader::of, UdpHeader::payload);
        parseThen(bytes, TcpHeader::of, tcp -> {
            tcp.payload();
            try {
                walk(new TcpOptionCursor().reset(tcp.options()));
            } catch (MalformedPacketException malformedOptions) {
                // what a bad options area does
            }
        });
    }

    @Property(tries = 2000)
    void cursorsFinishOrRejectCleanly(@ForAll @Size(max = 64) byte[] data) {
        walkEveryCursor(MemorySegment.ofArray(data).asReadOnly());
    }

    private static void walkEveryCursor(MemorySegment bytes) {
        Runnable[] walks = {
                () -> walk(new TcpOptionCursor().reset(bytes)),
                () -> walk(new NdOptionCursor().reset(bytes)),
                () -> walk(new Ipv4OptionCursor().reset(bytes))};
        for (Runnable walk : walks) {
            try {
                walk.run();
            } catch (MalformedPacketException e) {
                assertTrue(e.offset() >= 0 && e.offset() < bytes.byteSize(), "offset " + e.offset());
            }
        }
    }

    private static void walk(Ipv6OptionCursor options) {
        while (options.next()) {
            options.data();
            options.action();
        }
    }

    private static void walk(Ipv4OptionCursor options) {
        while (options.next()) {
            options.option();
        }
    }

    private static void walk(NdOptionCursor options) {
        while (options.next()) {
            options.data();
            if (options.isWellFormed()) {
                switch (options.type()) {
                    case NdOptionCursor.SOURCE_LINK_ADDRESS, NdOptionCursor.TARGET_LINK_ADDRESS ->
                            options.linkLayerAddress();
                    case NdOptionCursor.PREFIX_INFORMATION -> options.prefix();
                    case NdOptionCursor.MTU -> options.mtu();
                    case NdOptionCursor.REDIRECTED_HEADER -> options.redirectedPacket();
                    default -> { }
                }
            }
        }
    }

    private static void walk(TcpOptionCursor options) {
        while (options.next()) {
            options.data();
            if (options.isWellFormed()) {
                switch (options.kind()) {
                    case TcpOptionCursor.MSS -> options.mss();
                    case TcpOptionCursor.WINDOW_SCALE -> options.windowScaleShift();
                    case TcpOptionCursor.TIMESTAMP -> options.timestampEchoReply();
                    case TcpOptionCursor.SACK -> options.sackRightEdge(options.sackBlockCount() - 1);
                    default -> { }
                }
            }
        }
    }
}
