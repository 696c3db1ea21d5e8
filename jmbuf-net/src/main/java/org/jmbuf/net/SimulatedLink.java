package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.EthernetFrame;
import org.jmbuf.wire.MacAddress;

/**
 * An Ethernet segment in memory (a hub): every frame one port sends reaches every other port after a
 * delay, unless it is lost; it may be duplicated, and random jitter reorders frames. Everything random
 * comes from one seeded generator and time from the {@link Timers}' clock, so a run repeats exactly.
 *
 * <p>A sent frame is copied out and freed at once; each receiving port gets the bytes in storage made by
 * the link's {@link Delivery}, which is how tests hand the stack read-only or oddly segmented packets.
 */
public final class SimulatedLink {
    /**
     * How a frame is impaired on the way.
     *
     * @param delay       the base one-way delay
     * @param jitter      a uniformly random extra delay in [0, jitter): frames overtake each other
     * @param loss        the probability a frame is lost, per receiving port
     * @param duplication the probability a delivered frame arrives twice
     */
    public record Conditions(Duration delay, Duration jitter, double loss, double duplication) {
        /** A perfect link: 10 microseconds of delay, nothing lost, duplicated or reordered. */
        public static final Conditions PERFECT = new Conditions(Duration.ofNanos(10_000), Duration.ZERO, 0, 0);

        public Conditions {
            if (delay.isNegative() || jitter.isNegative() || loss < 0 || loss > 1 || duplication < 0
                    || duplication > 1) {
                throw new IllegalArgumentException("bad link conditions: " + delay + ", " + jitter + ", loss " + loss
                        + ", duplication " + duplication);
            }
        }
    }

    /** Makes the chain a receiving port gets from the bytes of a frame. */
    @FunctionalInterface
    public interface Delivery {
        /** A packet holding {@code frame}, allocated from {@code pool}. */
        Mbuf deliver(MbufPool pool, byte[] frame);

        /** The ordinary way: a copy in pool storage ({@code m_devget}). */
        Delivery COPY = (pool, frame) -> pool.devget(MemorySegment.ofArray(frame));
    }

    /** Frames that crossed or failed to cross the link. */
    public enum LinkCounter implements Counter {
        FRAMES_SENT("frames sent"),
        FRAMES_DELIVERED("frames delivered"),
        FRAMES_LOST("frames lost"),
        FRAMES_DUPLICATED("frames duplicated"),
        FRAMES_TOO_LONG("frames dropped for exceeding the link MTU");

        private final String description;

        LinkCounter(String description) {
            this.description = description;
        }

        @Override
        public String description() {
            return description;
        }
    }

    private final Timers timers;
    private final MbufPool pool;
    private final Conditions conditions;
    private final SplittableRandom random;
    private final int mtu;
    private final List<EthernetInterface> ports = new ArrayList<>();
    private final Counters<LinkCounter> counters = new Counters<>("link", LinkCounter.class);
    private Delivery delivery = Delivery.COPY;

    /**
     * A link whose frames carry at most {@code mtu} bytes of IP packet.
     *
     * @param seed the seed of every random choice the link makes
     */
    public SimulatedLink(Timers timers, MbufPool pool, int mtu, Conditions conditions, long seed) {
        this.timers = Objects.requireNonNull(timers, "timers");
        this.pool = Objects.requireNonNull(pool, "pool");
        this.conditions = Objects.requireNonNull(conditions, "conditions");
        this.mtu = mtu;
        this.random = new SplittableRandom(seed);
    }

    /** Sets how received frames are stored (see {@link Delivery}). */
    public void setDelivery(Delivery delivery) {
        this.delivery = Objects.requireNonNull(delivery, "delivery");
    }

    /** A new interface on this link, named {@code name}, with link-layer address {@code address}. */
    public EthernetInterface attach(String name, MacAddress address) {
        EthernetInterface[] self = new EthernetInterface[1];
        self[0] = new EthernetInterface(name, address, mtu, frame -> transmit(self[0], frame));
        ports.add(self[0]);
        return self[0];
    }

    public Counters<LinkCounter> counters() {
        return counters;
    }

    private void transmit(EthernetInterface from, Mbuf frame) {
        byte[] bytes;
        try (frame) {
            bytes = frame.toByteArray();
        }
        counters.increment(LinkCounter.FRAMES_SENT);
        if (bytes.length > mtu + EthernetFrame.VLAN_HEADER_LENGTH) {
            counters.increment(LinkCounter.FRAMES_TOO_LONG);
            return;
        }
        for (EthernetInterface to : ports) {
            if (to == from) {
                continue;
            }
            if (random.nextDouble() < conditions.loss()) {
                counters.increment(LinkCounter.FRAMES_LOST);
                continue;
            }
            scheduleDelivery(to, bytes);
            if (random.nextDouble() < conditions.duplication()) {
                counters.increment(LinkCounter.FRAMES_DUPLICATED);
                scheduleDelivery(to, bytes);
            }
        }
    }

    private void scheduleDelivery(EthernetInterface to, byte[] bytes) {
        long jitter = conditions.jitter().toNanos();
        long delay = conditions.delay().toNanos() + (jitter > 0 ? random.nextLong(jitter) : 0);
        timers.scheduleNanos(delay, () -> {
            counters.increment(LinkCounter.FRAMES_DELIVERED);
            Mbuf m = delivery.deliver(pool, bytes);
            m.setReceivingInterface(to.index());
            to.receive(m);
        });
    }
}
