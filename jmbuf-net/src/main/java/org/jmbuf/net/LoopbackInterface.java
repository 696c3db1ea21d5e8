package org.jmbuf.net;

import org.jmbuf.buf.Mbuf;
import org.jmbuf.wire.MacAddress;

/** The loopback interface ({@code lo0}): what is sent is received, with no link-layer header. */
public final class LoopbackInterface extends NetworkInterface {
    /** The loopback MTU (NetBSD's {@code LOMTU}). */
    public static final int MTU = 33192;

    /** A loopback interface named {@code name}. */
    public LoopbackInterface(String name) {
        super(name, MTU, 1024);
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
    protected void send(Mbuf frame) {
        frame.setReceivingInterface(index());
        receive(frame);
    }
}
