package org.jmbuf.net;

/** Per-interface counters ({@code struct if_data}). */
public enum InterfaceCounter implements Counter {
    PACKETS_IN("packets received"),
    BYTES_IN("bytes received"),
    PACKETS_OUT("packets sent"),
    BYTES_OUT("bytes sent"),
    INPUT_QUEUE_DROPS("packets dropped because the input queue was full"),
    INPUT_ERRORS("input errors (frames too short or malformed)"),
    OUTPUT_ERRORS("output errors"),
    MULTICAST_IN("multicast or broadcast packets received"),
    NOT_FOR_US("frames for another link-layer address"),
    UNKNOWN_PROTOCOL("frames of an unknown EtherType");

    private final String description;

    InterfaceCounter(String description) {
        this.description = description;
    }

    @Override
    public String description() {
        return description;
    }
}
