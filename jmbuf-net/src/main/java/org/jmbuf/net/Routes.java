package org.jmbuf.net;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.jmbuf.wire.Ipv4Address;

/**
 * The IPv4 routing table: connected prefixes of the host's interfaces and static routes, chosen by
 * longest prefix match ({@code rtalloc}).
 */
public final class Routes {
    /**
     * A route: packets for {@code prefix}/{@code prefixLength} leave through {@code ifp}, to
     * {@code gateway} if it is set, else straight to their destination on the link.
     */
    public record Route(Ipv4Address prefix, int prefixLength, NetworkInterface ifp, Ipv4Address gateway) {
        public Route {
            Objects.requireNonNull(prefix, "prefix");
            Objects.requireNonNull(ifp, "ifp");
            if (prefixLength < 0 || prefixLength > 32) {
                throw new IllegalArgumentException("prefix length " + prefixLength + " is not in 0..32");
            }
        }

        /** Where a packet for {@code destination} goes next: the gateway, or the destination itself. */
        public Ipv4Address nextHop(Ipv4Address destination) {
            return gateway != null ? gateway : destination;
        }

        @Override
        public String toString() {
            return prefix + "/" + prefixLength + " -> " + (gateway == null ? "link" : gateway.toString()) + " via "
                    + ifp.name();
        }
    }

    private final List<Route> routes = new ArrayList<>();

    /** Adds a route; routes of equal prefix length keep the order they were added in. */
    public void add(Route route) {
        routes.add(route);
        routes.sort(Comparator.comparingInt(Route::prefixLength).reversed());
    }

    /** Removes every route through {@code ifp}. */
    public void removeAll(NetworkInterface ifp) {
        routes.removeIf(r -> r.ifp() == ifp);
    }

    /** The most specific route to {@code destination}, or null if there is none. */
    public Route lookup(Ipv4Address destination) {
        for (Route r : routes) {
            if (destination.isIn(r.prefix(), r.prefixLength())) {
                return r;
            }
        }
        return null;
    }

    /** Every route, most specific first. */
    public List<Route> all() {
        return List.copyOf(routes);
    }
}
