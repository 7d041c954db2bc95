//! The receive path of the endpoint: every datagram is classified (direct or routed), its
//! header checked, its payload opened with the session's keys and handed to the stream it
//! belongs to, or dropped and counted with a reason. Never panics on any input.

use super::*;

impl Endpoint {
    /// Handles one received datagram (it may be modified in place: it is decrypted there).
    /// Every datagram is either accepted or dropped and counted; none causes a panic.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, datagram: &mut [u8]) {
        self.observe(now);
        self.out.counters.rx_datagrams += 1;
        match self.process(now, from, datagram) {
            Ok(()) => self.out.counters.rx_accepted += 1,
            Err(reason) => self.out.counters.drop(reason),
        }
    }

    fn process(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &mut [u8],
    ) -> Result<(), &'static str> {
        match classify(datagram).map_err(|e| e.kind())? {
            DatagramKind::Direct => self.on_packet(now, from, datagram, None),
            DatagramKind::Routed => self.on_routed(now, from, datagram),
        }
    }

    /// Handles one Net packet: arrived directly from `from` (`via` is `None`), or delivered
    /// here through the relay at `from` (`via` says which neighbour and how many hops).
    pub(super) fn on_packet(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &mut [u8],
        via: Option<Via>,
    ) -> Result<(), &'static str> {
        let view = HeaderView::parse(datagram).map_err(|e| e.kind())?;
        if view.flags() & flags::HANDSHAKE != 0 {
            return self.on_handshake(now, from, datagram, via);
        }
        let sid = view.session_id();
        let Some(sess) = self.sessions.get_mut(&sid) else {
            return Err("unknown_session");
        };
        let (header, plain) = sess.cipher.opener.open(datagram).map_err(crypto_reason)?;
        // A heartbeat carries the peer's link report (direct or routed: either way it is
        // authentic); a malformed one is dropped before it changes anything.
        let report = if header.flags & flags::HEARTBEAT != 0 {
            Some(link_report::parse(plain, header.event_count)?)
        } else {
            None
        };
        let out = &mut self.out;
        let peer_id = sess.peer;
        // Only a direct packet may move a direct session's address; a routed delivery never
        // sets one, and a session agreed through a relay stays without one.
        let direct = via.is_none() && sess.addr.is_some();
        if direct {
            sess.addr = Some(from);
        } else if via.is_some() {
            out.counters.routed_received += 1;
        }
        sess.last_rx = now;
        let newly_confirmed = !sess.confirmed;
        sess.confirmed = true;
        let mut link_heard = false;
        let mut new_direct = false;
        if let Some(p) = self.peers.get_mut(&peer_id) {
            if let Some(change) = p.detector.as_mut().and_then(|d| d.heard(now)) {
                out.events.push_back(Event::Health {
                    peer: peer_id,
                    change,
                });
            }
            if let Some(hears_us) = report {
                p.hears_us = hears_us;
            }
            if direct && let Some(l) = p.link.as_mut() {
                link_heard = l.heard(now) == Some(HealthChange::Recovered);
            }
            if newly_confirmed {
                p.current = Some(sid);
                if direct {
                    p.addr = Some(from);
                    new_direct = p.link.is_none();
                }
                out.events.push_back(Event::Connected {
                    peer: peer_id,
                    addr: from,
                    session_id: sid,
                    initiator: sess.initiator,
                });
            }
        }
        let path = path_for(
            &self.routes,
            &self.peers,
            self.me,
            self.config.max_hops,
            sess,
        );
        if link_heard || report.is_some() {
            routing::sync_link(&mut self.routes, &self.peers, out, peer_id);
        }
        if new_direct {
            routing::add_direct(
                &mut self.routes,
                &mut self.peers,
                out,
                self.config.link_detector(),
                peer_id,
                now,
            );
        }
        let cfg = self.config.stream;
        let origin = self.origin_hash;
        if report.is_some() {
            return Ok(());
        }
        if header.flags & flags::CONTROL != 0 {
            let ack = Ack::parse(plain).map_err(|e| e.kind())?;
            let scratch = &mut self.scratch;
            scratch.clear();
            if let Some(stream) = sess.send.get_mut(&header.stream_id) {
                stream.on_ack(&ack, now, cfg.nack_guard, scratch);
            }
            if !scratch.is_empty() {
                resend(
                    sid,
                    sess,
                    out,
                    origin,
                    now,
                    path.as_ref(),
                    header.stream_id,
                    scratch,
                );
            }
            return Ok(());
        }
        let frag = if header.frag_flags & frag_flags::FRAGMENT != 0 {
            if header.event_count != 0 {
                out.counters.fragments.bad += 1;
                return Err("fragment_bad");
            }
            Some(FragInfo {
                id: header.fragment_id,
                index: header.fragment_offset,
                last: header.frag_flags & frag_flags::LAST != 0,
            })
        } else {
            Frame::parse(plain, header.event_count).map_err(|_| "bad_frame")?;
            None
        };
        let tag = StreamTag {
            subprotocol_id: header.subprotocol_id,
            channel_hash: header.channel_hash,
        };
        let mode = if header.flags & flags::RELIABLE != 0 {
            StreamMode::Reliable
        } else {
            StreamMode::FireAndForget
        };
        if !sess.recv.contains_key(&header.stream_id) {
            if sess.recv.len() >= cfg.max_streams {
                return Err("too_many_streams");
            }
            // Room in `ids` for the timers' list of this session's streams, so the first
            // timer run under load does not allocate.
            let streams = sess.recv.len() + 1;
            self.ids.reserve(streams.saturating_sub(self.ids.len()));
        }
        let stream = sess
            .recv
            .entry(header.stream_id)
            .or_insert_with(|| RecvStream::new(mode, cfg.window).with_tag(tag));
        if stream.mode() != mode {
            return Err("stream_mode_mismatch");
        }
        if stream.tag() != tag {
            return Err("stream_tag_mismatch");
        }
        let reliable = mode == StreamMode::Reliable;
        if !reliable && out.events.len() >= cfg.max_queued_frames {
            return Err("queue_full");
        }
        let stream_id = header.stream_id;
        let reasm = &mut sess.reasm;
        // Fragment bytes of a reliable stream dropped by reassembly: their credit returns.
        let mut released = 0u64;
        let arrival = stream.on_frame(
            now,
            header.sequence,
            plain.to_vec(),
            header.event_count,
            frag,
            cfg.ack_every,
            cfg.ack_delay,
            |seq, frame, count, frag| {
                let delivery = match frag {
                    None => Delivery::new(peer_id, sid, stream_id, seq, reliable, frame, count),
                    Some(f) => {
                        out.counters.fragments.received += 1;
                        let counters = &mut out.counters.fragments;
                        let whole = reasm.push(now, stream_id, f, frame, |d| {
                            counters.dropped(d.reason);
                            released += d.bytes as u64;
                        });
                        let Some(event) = whole else {
                            return;
                        };
                        out.counters.fragments.reassembled += 1;
                        Delivery::reassembled(peer_id, sid, stream_id, seq, reliable, event)
                    }
                };
                out.counters.events_delivered += delivery.len() as u64;
                out.events.push_back(Event::Data(delivery.with_tag(tag)));
            },
        );
        if reliable && released > 0 {
            stream.on_consumed(now, released);
        }
        if stream
            .poll_ack(cfg.ack_refresh, cfg.ack_linger)
            .is_some_and(|t| t <= now)
        {
            send_ack(sid, sess, out, origin, now, path.as_ref(), stream_id);
        }
        match arrival {
            Arrival::Accepted => Ok(()),
            Arrival::Duplicate => {
                out.counters.frames_duplicate += 1;
                Ok(())
            }
            Arrival::Overflow => Err("stream_overflow"),
        }
    }
}
