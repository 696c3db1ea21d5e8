package org.jmbuf.buf;

/**
 * A piece of metadata attached to a packet: the mbuf(9) {@code m_tag} (the KAME "aux" mbufs).
 *
 * <p>A packet holds at most one tag of each class; {@link Mbuf#tag(Class)} finds it
 * ({@code m_tag_find}), {@link Mbuf#addTag(PacketTag)} adds it ({@code m_tag_prepend}) and
 * {@link Mbuf#removeTag(Class)} deletes it ({@code m_tag_delete}). A tag lives on the packet header,
 * so only packets ({@link Mbuf#isPacket()}) carry tags.
 *
 * <p>When a packet header is copied ({@link Mbuf#copyPacket()}, {@link Mbuf#copy(int, int)} from offset
 * 0, {@link Mbuf#dup(int, int)} from offset 0: {@code m_tag_copy_chain}) each tag is copied with
 * {@link #copyForPacket()}. Immutable tags (records of immutable values are the natural choice) keep the
 * default, which shares the tag.
 */
public interface PacketTag {
    /**
     * Returns the tag that a copy of the packet carries. The default returns {@code this}, which is right
     * for immutable tags; a mutable tag returns a copy so the two packets do not share state.
     */
    default PacketTag copyForPacket() {
        return this;
    }
}
