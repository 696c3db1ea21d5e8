package org.jmbuf.net;

/**
 * The states of a TCP connection (RFC 9293 §3.3.2; {@code tcp_fsm.h}). {@code CLOSED} is where a
 * connection starts and ends; a listening socket is a {@link TcpListener}, not a connection.
 */
public enum TcpState {
    CLOSED,
    SYN_SENT,
    SYN_RECEIVED,
    ESTABLISHED,
    FIN_WAIT_1,
    FIN_WAIT_2,
    CLOSE_WAIT,
    CLOSING,
    LAST_ACK,
    TIME_WAIT;

    /** Whether the three-way handshake has completed ({@code TCPS_HAVERCVDSYN} and beyond, SYN_RECEIVED excluded). */
    public boolean isSynchronized() {
        return compareTo(ESTABLISHED) >= 0;
    }

    /** Whether data received in this state is delivered to the application (RFC 9293 §3.10.7.4, step 7). */
    boolean acceptsText() {
        return this == ESTABLISHED || this == FIN_WAIT_1 || this == FIN_WAIT_2;
    }

    /** Whether the application may still queue data to send (our FIN not yet queued). */
    boolean acceptsWrites() {
        return this == ESTABLISHED || this == CLOSE_WAIT || this == SYN_SENT || this == SYN_RECEIVED;
    }

    /** Whether the peer has sent its FIN (no more data will arrive). */
    boolean hasReceivedFin() {
        return this == CLOSE_WAIT || this == CLOSING || this == LAST_ACK || this == TIME_WAIT;
    }
}
