package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import org.jmbuf.wire.Bytes;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;
import org.jmbuf.wire.Ipv4OptionCursor;
import org.jmbuf.wire.MalformedPacketException;

/**
 * The IPv4 options a host acts on ({@code ip_dooptions}, RFC 791 §3.1, RFC 1122 §3.2.1.8, RFC 7126):
 * Record Route, Internet Timestamp, and Loose and Strict Source Route. Works on a header the caller
 * has made writable (the caller uses {@link org.jmbuf.buf.Mbuf#ptrRw}, so a packet on shared or
 * read-only storage is copied first, never written).
 */
final class Ipv4Options {
    /** Timestamps only. */
    static final int TS_ONLY = 0;
    /** Address and timestamp pairs. */
    static final int TS_AND_ADDRESS = 1;
    /** Timestamps for prespecified addresses. */
    static final int TS_PRESPECIFIED = 3;

    private Ipv4Options() {
    }

    /**
     * Checks every option's syntax: lengths (by the cursor) and, for the options we act on, their minimum
     * length, pointer and flags.
     *
     * @return -1 if well formed, else the offset within the header of the offending byte (the Parameter
     *         Problem pointer)
     */
    static int firstProblem(Ipv4Header ip) {
        Ipv4OptionCursor options = new Ipv4OptionCursor().reset(ip.options());
        boolean sourceRoute = false;
        try {
            while (options.next()) {
                MemorySegment option = options.option();
                int at = Ipv4Header.MIN_LENGTH + options.offset();
                switch (options.type()) {
                    case Ipv4OptionCursor.RECORD_ROUTE, Ipv4OptionCursor.LOOSE_SOURCE_ROUTE,
                            Ipv4OptionCursor.STRICT_SOURCE_ROUTE -> {
                        if (options.length() < 3) {
                            return at + 1;
                        }
                        if (Bytes.u8(option, 2) < 4) {
                            return at + 2;
                        }
                        if (options.type() != Ipv4OptionCursor.RECORD_ROUTE) {
                            if (sourceRoute) {
                                return at; // two source routes
                            }
                            sourceRoute = true;
                        }
                    }
                    case Ipv4OptionCursor.TIMESTAMP -> {
                        if (options.length() < 4) {
                            return at + 1;
                        }
                        if (Bytes.u8(option, 2) < 5) {
                            return at + 2;
                        }
                        int flag = Bytes.u8(option, 3) & 0xf;
                        if (flag != TS_ONLY && flag != TS_AND_ADDRESS && flag != TS_PRESPECIFIED) {
                            return at + 3;
                        }
                    }
                    default -> { }
                }
            }
            return -1;
        } catch (MalformedPacketException e) {
            return Ipv4Header.MIN_LENGTH + e.offset();
        }
    }

    /** Whether the header carries a Loose or Strict Source Route option. */
    static boolean hasSourceRoute(Ipv4Header ip) {
        return find(ip, Ipv4OptionCursor.LOOSE_SOURCE_ROUTE) >= 0 || find(ip, Ipv4OptionCursor.STRICT_SOURCE_ROUTE) >= 0;
    }

    /** The offset within the header of the first option of {@code type}, or -1. */
    static int find(Ipv4Header ip, int type) {
        Ipv4OptionCursor options = new Ipv4OptionCursor().reset(ip.options());
        while (options.next()) {
            if (options.type() == type) {
                return Ipv4Header.MIN_LENGTH + options.offset();
            }
        }
        return -1;
    }

    /**
     * Records {@code address} in a Record Route option and {@code address} with {@code millis} in a
     * Timestamp option, as a router or the destination does (RFC 791). A full Record Route is left as it
     * is; a full Timestamp has its overflow count raised.
     *
     * @return -1, or the Parameter Problem pointer if the Timestamp overflow count overflows
     */
    static int record(MemorySegment header, Ipv4Address address, long millis) {
        Ipv4Header ip = Ipv4Header.of(header);
        Ipv4OptionCursor options = new Ipv4OptionCursor().reset(ip.options());
        while (options.next()) {
            int at = Ipv4Header.MIN_LENGTH + options.offset();
            int length = options.length();
            if (options.type() == Ipv4OptionCursor.RECORD_ROUTE) {
                int pointer = Bytes.u8(header, at + 2);
                if (pointer + 3 <= length) {
                    address.write(header, at + pointer - 1);
                    Bytes.setU8(header, at + 2, pointer + 4);
                }
            } else if (options.type() == Ipv4OptionCursor.TIMESTAMP) {
                int pointer = Bytes.u8(header, at + 2);
                int overflowAndFlag = Bytes.u8(header, at + 3);
                int flag = overflowAndFlag & 0xf;
                int entry = flag == TS_ONLY ? 4 : 8;
                if (pointer + entry - 1 > length) {
                    int overflow = overflowAndFlag >>> 4;
                    if (overflow == 15) {
                        return at + 3;
                    }
                    Bytes.setU8(header, at + 3, (overflow + 1) << 4 | flag);
                    continue;
                }
                int slot = at + pointer - 1;
                if (flag == TS_PRESPECIFIED) {
                    if (!Ipv4Address.read(header, slot).equals(address)) {
                        continue; // not our turn
                    }
                    Bytes.setU32(header, slot + 4, (int) millis);
                } else if (flag == TS_AND_ADDRESS) {
                    address.write(header, slot);
                    Bytes.setU32(header, slot + 4, (int) millis);
                } else {
                    Bytes.setU32(header, slot, (int) millis);
                }
                Bytes.setU8(header, at + 2, pointer + entry);
            }
        }
        return -1;
    }

    /**
     * Source route processing at a hop named by the route (RFC 791): the next address is taken from the
     * route, replaced by {@code recorded} (our outgoing address), and the pointer advanced.
     *
     * @return the next destination, or null if the route is exhausted (the packet is for us)
     */
    static Ipv4Address nextSourceRouteHop(MemorySegment header, Ipv4Address recorded) {
        Ipv4Header ip = Ipv4Header.of(header);
        int at = find(ip, Ipv4OptionCursor.LOOSE_SOURCE_ROUTE);
        if (at < 0) {
            at = find(ip, Ipv4OptionCursor.STRICT_SOURCE_ROUTE);
        }
        int length = Bytes.u8(header, at + 1);
        int pointer = Bytes.u8(header, at + 2);
        if (pointer + 3 > length) {
            return null;
        }
        Ipv4Address next = Ipv4Address.read(header, at + pointer - 1);
        recorded.write(header, at + pointer - 1);
        Bytes.setU8(header, at + 2, pointer + 4);
        return next;
    }

    /** Whether the header's source route is strict (each hop must be on-link). */
    static boolean isStrict(Ipv4Header ip) {
        return find(ip, Ipv4OptionCursor.STRICT_SOURCE_ROUTE) >= 0;
    }

    /**
     * The options an echo reply carries back ({@code ip_srcroute} with {@code icmp_reflect}): Record Route
     * and Timestamp copied as they are, so the reply keeps recording on its way, and a source route
     * reversed (RFC 1122 §3.2.1.8(c)): the hops it recorded, last first, then the original source. The
     * result is padded to a multiple of 4 bytes (possibly empty).
     *
     * @param firstHop receives, in element 0, where the reply must go first (the last recorded hop), or
     *                 null if the request had no source route
     */
    static byte[] forReply(Ipv4Header request, Ipv4Address originalSource, Ipv4Address[] firstHop) {
        MemorySegment options = request.options();
        byte[] out = new byte[(int) options.byteSize() + 4];
        MemorySegment reply = MemorySegment.ofArray(out);
        int length = 0;
        firstHop[0] = null;
        Ipv4OptionCursor cursor = new Ipv4OptionCursor().reset(options);
        while (cursor.next()) {
            MemorySegment option = cursor.option();
            int type = cursor.type();
            if (type == Ipv4OptionCursor.RECORD_ROUTE || type == Ipv4OptionCursor.TIMESTAMP) {
                MemorySegment.copy(option, 0, reply, length, cursor.length());
                length += cursor.length();
            } else if (type == Ipv4OptionCursor.LOOSE_SOURCE_ROUTE || type == Ipv4OptionCursor.STRICT_SOURCE_ROUTE) {
                int pointer = Bytes.u8(option, 2);
                int recorded = Math.min(pointer - 4, cursor.length() - 3) / 4;
                if (recorded == 0) {
                    continue;
                }
                firstHop[0] = Ipv4Address.read(option, 3 + 4L * (recorded - 1));
                int routeLength = 3 + 4 * recorded;
                out[length] = (byte) type;
                out[length + 1] = (byte) routeLength;
                out[length + 2] = 4;
                for (int i = 0; i < recorded - 1; i++) {
                    Ipv4Address.read(option, 3 + 4L * (recorded - 2 - i)).write(reply, length + 3 + 4L * i);
                }
                originalSource.write(reply, length + 3 + 4L * (recorded - 1));
                length += routeLength;
            }
        }
        int padded = (length + 3) & ~3;
        if (padded > Ipv4Header.MAX_LENGTH - Ipv4Header.MIN_LENGTH) {
            return new byte[0]; // cannot happen for a valid request; send the reply without options
        }
        return java.util.Arrays.copyOf(out, padded);
    }
}
