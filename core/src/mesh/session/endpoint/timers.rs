//! Time in the endpoint: when the next timer is due ([`Endpoint::poll_timeout`]) and what
//! happens when it is ([`Endpoint::handle_timeout`]: handshake retries and give-ups, failure
//! detection, heartbeats and probes, retransmissions, acks, reassembly timeouts), plus the acks
//! a stopping node still owes ([`Endpoint::send_owed_acks`]). Nothing here reads a clock: `now`
//! always comes from the driver.

use super::*;

impl Endpoint {
    /// When [`handle_timeout`](Self::handle_timeout) next has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let cfg = &self.config;
        let mut t = self.responder.poll_timeout();
        let mut at = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t: Instant| t.min(x)));
            }
        };
        for p in self.peers.values() {
            at(p.connecting.as_ref().and_then(|i| i.poll_timeout()));
            at(p.detector.as_ref().and_then(|d| d.deadline()));
            at(p.link.as_ref().and_then(|d| d.deadline()));
        }
        let last = self.last_now;
        for (sid, s) in &self.sessions {
            let current = self
                .peers
                .get(&s.peer)
                .is_some_and(|p| p.current == Some(*sid));
            if s.confirmed && current {
                at(Some(s.last_tx + cfg.detector.heartbeat_interval));
                if s.addr.is_some() {
                    at(Some(
                        s.last_direct_heartbeat + cfg.detector.heartbeat_interval,
                    ));
                }
            }
            let resends =
                last.is_none_or(|now| s.retransmits(current, now, cfg.detector.fail_after));
            for st in s.send.values().filter(|_| resends) {
                at(st.poll_timeout(cfg.stream.rto));
            }
            for st in s.recv.values() {
                at(st.poll_ack(cfg.stream.ack_refresh, cfg.stream.ack_linger));
            }
            at(s.reasm.poll_timeout());
        }
        t
    }

    /// Advances every timer to `now`: handshake retries and give-ups, failure detection,
    /// heartbeats, retransmissions and acks.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.observe(now);
        self.responder.handle_timeout(now);
        let out = &mut self.out;
        let mut resends: Vec<(NodeId, Dial, Vec<u8>)> = Vec::new();
        let mut links_down: Vec<NodeId> = Vec::new();
        for (&peer_id, p) in self.peers.iter_mut() {
            if let Some(init) = &mut p.connecting {
                let o = init.handle_timeout(now);
                if let Some(msg) = o.transmit {
                    resends.push((peer_id, p.dial, msg));
                }
                if let Some(HandshakeEvent::Failed(e)) = o.event {
                    p.connecting = None;
                    p.last_error = Some(e);
                    out.counters.handshakes_failed += 1;
                    out.events.push_back(Event::ConnectFailed {
                        peer: peer_id,
                        error: e,
                    });
                }
            }
            if let Some(d) = &mut p.detector {
                while let Some(change) = d.tick(now) {
                    out.events.push_back(Event::Health {
                        peer: peer_id,
                        change,
                    });
                }
            }
            if let Some(l) = &mut p.link {
                while let Some(change) = l.tick(now) {
                    if change == HealthChange::Failed {
                        // Nothing the peer reported while it was unheard is known: the link
                        // comes back up only with a fresh report that it hears this node.
                        p.hears_us = false;
                        links_down.push(peer_id);
                    }
                }
            }
        }
        for (peer, dial, msg) in resends {
            self.handshake_out(peer, dial, &msg);
        }
        for peer in links_down {
            routing::sync_link(&mut self.routes, &self.peers, &mut self.out, peer);
        }
        let out = &mut self.out;
        let cfg = (self.config.detector, self.config.stream);
        let (det, scfg) = cfg;
        let origin = self.origin_hash;
        let scratch = &mut self.scratch;
        let ids = &mut self.ids;
        let (me, max_hops) = (self.me, self.config.max_hops);
        for (&sid, sess) in self.sessions.iter_mut() {
            let current = self
                .peers
                .get(&sess.peer)
                .is_some_and(|p| p.current == Some(sid));
            let path = path_for(&self.routes, &self.peers, me, max_hops, sess);
            let hears = link_report::hears(&self.peers, sess.peer);
            // Every heartbeat_interval a heartbeat goes straight to a peer with a direct
            // address, whatever else was sent, carrying this node's link report: so a link
            // that loses packets one way is noticed by the side that still hears, and a link
            // marked down (or unused while a relay carries the traffic: a probe) is noticed
            // when it returns.
            if current
                && sess.confirmed
                && let (Some(addr), Some(p)) = (sess.addr, path.as_ref())
                && now >= sess.last_direct_heartbeat + det.heartbeat_interval
            {
                let probe = p.route.is_some();
                let direct = Path { addr, route: None };
                if link_report::send_heartbeat(sid, sess, out, origin, now, Some(&direct), hears) {
                    if probe {
                        out.counters.probes_sent += 1;
                    } else {
                        out.counters.heartbeats_sent += 1;
                    }
                }
            }
            // Otherwise a heartbeat along the usual path when nothing was sent for an
            // interval (it keeps the peer's end-to-end failure detector fed).
            if current
                && sess.confirmed
                && now >= sess.last_tx + det.heartbeat_interval
                && link_report::send_heartbeat(sid, sess, out, origin, now, path.as_ref(), hears)
            {
                out.counters.heartbeats_sent += 1;
            }
            ids.clear();
            if sess.retransmits(current, now, det.fail_after) {
                ids.extend(sess.send.keys().copied());
            }
            for &stream_id in ids.iter() {
                scratch.clear();
                if let Some(s) = sess.send.get(&stream_id) {
                    s.due(now, scfg.rto, scratch);
                }
                if !scratch.is_empty() {
                    resend(
                        sid,
                        sess,
                        out,
                        origin,
                        now,
                        path.as_ref(),
                        stream_id,
                        scratch,
                    );
                }
            }
            if sess.reasm.poll_timeout().is_some_and(|t| t <= now) {
                let (recv, fragments) = (&mut sess.recv, &mut out.counters.fragments);
                sess.reasm.expire(now, |d| {
                    fragments.dropped(d.reason);
                    if let Some(r) = recv.get_mut(&d.stream_id)
                        && r.mode() == StreamMode::Reliable
                    {
                        r.on_consumed(now, d.bytes as u64);
                    }
                });
            }
            ids.clear();
            ids.extend(
                sess.recv
                    .iter()
                    .filter(|(_, r)| {
                        r.poll_ack(scfg.ack_refresh, scfg.ack_linger)
                            .is_some_and(|t| t <= now)
                    })
                    .map(|(&id, _)| id),
            );
            for &stream_id in ids.iter() {
                send_ack(sid, sess, out, origin, now, path.as_ref(), stream_id);
            }
        }
    }

    /// Sends at once every ack a reliable receive stream still owes (one due later, or
    /// frames or credit not yet acknowledged), so a node that stops right after taking its
    /// last events does not leave its peers resending them to nobody. Called by a driver
    /// as it shuts down; the datagrams come out of [`poll_transmit`](Self::poll_transmit).
    pub fn send_owed_acks(&mut self, now: Instant) {
        self.observe(now);
        let out = &mut self.out;
        let origin = self.origin_hash;
        let ids = &mut self.ids;
        let (me, max_hops) = (self.me, self.config.max_hops);
        for (&sid, sess) in self.sessions.iter_mut() {
            let path = path_for(&self.routes, &self.peers, me, max_hops, sess);
            ids.clear();
            ids.extend(
                sess.recv
                    .iter()
                    .filter(|(_, r)| r.owes_ack())
                    .map(|(&id, _)| id),
            );
            for &stream_id in ids.iter() {
                send_ack(sid, sess, out, origin, now, path.as_ref(), stream_id);
            }
        }
    }
}
