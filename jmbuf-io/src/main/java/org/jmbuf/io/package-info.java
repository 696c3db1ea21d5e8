/**
 * Capture files: {@link org.jmbuf.io.CaptureReader} (pcap and pcapng, mapped read-only, packets as
 * read-only external storage, zero copy), {@link org.jmbuf.io.CaptureWriter} (pcap and pcapng from
 * chains), the metadata of a packet ({@link org.jmbuf.io.CapturedPacket}) and of an interface
 * ({@link org.jmbuf.io.CaptureInterface}), link types ({@link org.jmbuf.io.LinkType}) and the error a
 * damaged file raises ({@link org.jmbuf.io.CaptureFormatException}); Linux TAP devices
 * ({@link org.jmbuf.io.TapDevice}, through the Foreign Function &amp; Memory API) and a jmbuf host running on
 * one ({@link org.jmbuf.io.TapLink}).
 */
package org.jmbuf.io;
