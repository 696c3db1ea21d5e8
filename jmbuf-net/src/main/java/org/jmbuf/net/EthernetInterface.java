package org.jmbuf.net;

import java.util.Objects;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.wire.EthernetFrame;
import org.jmbuf.wire.MacAddress;

/** An Ethernet interface whose frames go to a {@link Driver}: a simulated link port, a TAP device. */
public final class EthernetInterface extends NetworkInterface {
    /** Where an Ethernet interface's outgoing frames go ({@code if_start}). */
    @FunctionalInterface
    public interface Driver {
        /** Sends or frees {@code frame}, which belongs to the driver from now on. */
        void send(Mbuf frame);
    }

    /** The default input queue limit ({@code IFQ_MAXLEN}). */
    public static final int DEFAULT_QUEUE_LIMIT = 256;

    private final MacAddress address;
    private final Driver driver;

    /**
     * An interface named {@code name} with link-layer address {@code address} and IP MTU {@code mtu}.
     *
     * @throws IllegalArgumentException if the address is not unicast or the MTU is below 68
     */
    public EthernetInterface(String name, MacAddress address, int mtu, Driver driver) {
        super(name, mtu, DEFAULT_QUEUE_LIMIT);
        if (!address.isUnicast()) {
            throw new IllegalArgumentException("an interface address must be unicast: " + address);
        }
        this.address = address;
        this.driver = Objects.requireNonNull(driver, "driver");
    }

    @Override
    public MacAddress linkAddress() {
        return address;
    }

    @Override
    public int linkHeaderLength() {
        return EthernetFrame.HEADER_LENGTH;
    }

    @Override
    protected void send(Mbuf frame) {
        driver.send(frame);
    }
}
