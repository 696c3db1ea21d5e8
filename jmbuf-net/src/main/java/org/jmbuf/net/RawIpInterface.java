package org.jmbuf.net;

import java.util.Objects;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.wire.MacAddress;

/**
 * A point-to-point interface that carries bare IP packets, with no link-layer header (a TUN device, a
 * capture of link type RAW): received packets go straight to IPv4 or IPv6 by their version nibble, and
 * sent packets go to a {@link EthernetInterface.Driver}-like sink as they are.
 */
public final class RawIpInterface extends NetworkInterface {
    private final EthernetInterface.Driver driver;

    /**
     * An interface named {@code name} with IP MTU {@code mtu}, whose outgoing packets go to {@code driver}.
     *
     * @throws IllegalArgumentException if the MTU is below 68
     */
    public RawIpInterface(String name, int mtu, EthernetInterface.Driver driver) {
        super(name, mtu, EthernetInterface.DEFAULT_QUEUE_LIMIT);
        this.driver = Objects.requireNonNull(driver, "driver");
    }

    @Override
    public MacAddress linkAddress() {
        return null;
    }

    @Override
    public int linkHeaderLength() {
        return 0;
    }

    @Override
    protected void send(Mbuf packet) {
        driver.send(packet);
    }
}
