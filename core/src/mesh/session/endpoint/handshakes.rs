//! Handshakes of the endpoint: dialling a peer (directly or through a relay), answering and
//! completing Noise handshakes carried in Net packets, and turning a finished handshake into a
//! session (with at most [`MAX_SESSIONS_PER_PEER`] kept per peer). The handshake state
//! machines themselves are `mesh::handshake`'s; this module only routes their messages and
//! records their results.

use super::*;

impl Endpoint {
    /// Starts a handshake with the node whose card is `card`, reachable at `addr`. `timestamp`
    /// must grow between calls (Unix nanoseconds). Returns the peer's node id; `Connected` or
    /// `ConnectFailed` follows. A call while a handshake to that peer runs changes nothing.
    pub fn connect(
        &mut self,
        now: Instant,
        addr: SocketAddr,
        card: &NodeCard,
        timestamp: u64,
    ) -> Result<NodeId, MeshError> {
        self.observe(now);
        let peer_id = card.verify()?;
        self.dial(now, peer_id, card, timestamp, Dial::Direct(addr))
    }

    /// Starts a handshake as [`connect`](Self::connect) does, or changes nothing while one
    /// runs; its messages travel as `dial` says. A direct dial records `addr` as the peer's
    /// address.
    pub(super) fn dial(
        &mut self,
        now: Instant,
        peer_id: NodeId,
        card: &NodeCard,
        timestamp: u64,
        dial: Dial,
    ) -> Result<NodeId, MeshError> {
        let direct = match dial {
            Dial::Direct(addr) => Some(addr),
            Dial::Via(_) => None,
        };
        let peer = self
            .peers
            .entry(peer_id)
            .or_insert_with(|| Peer::new(direct, dial));
        if peer.connecting.is_some() {
            return Ok(peer_id);
        }
        if direct.is_some() {
            peer.addr = direct;
        }
        let (init, msg) = Initiator::start(
            &self.config.handshake,
            PeerTarget::from(card),
            now,
            timestamp,
        )?;
        peer.connecting = Some(init);
        peer.dial = dial;
        peer.last_error = None;
        if !self.handshake_out(peer_id, dial, &msg) {
            return Err(MeshError::Handshake(HandshakeError::Internal));
        }
        Ok(peer_id)
    }

    /// Queues a handshake message for `peer` along `dial`; false if it could not be framed.
    /// A relay that has no address any more counts as a packet without a path.
    pub(super) fn handshake_out(&mut self, peer: NodeId, dial: Dial, msg: &[u8]) -> bool {
        let (addr, route) = match dial {
            Dial::Direct(addr) => (Some(addr), None),
            Dial::Via(hop) => (
                self.peers.get(&hop).and_then(|p| p.addr),
                Some(self.route_header(peer)),
            ),
        };
        let Some(data) = handshake_datagram(msg, route.as_ref()) else {
            return false;
        };
        match addr {
            Some(addr) => {
                if route.is_some() {
                    self.out.counters.routed_sent += 1;
                }
                self.out.transmit(addr, data);
            }
            None => self.out.counters.tx_no_path += 1,
        }
        true
    }

    /// Handles a handshake packet. A routed one (`via` set) is answered back through the
    /// neighbour that handed it over; its session has no direct address.
    pub(super) fn on_handshake(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &[u8],
        via: Option<Via>,
    ) -> Result<(), &'static str> {
        let (header, msg) = split_packet(datagram).map_err(|e| e.kind())?;
        let well_formed = match via {
            None => is_handshake_header(&header),
            Some(_) => is_routed_handshake_header(&header),
        };
        if !well_formed {
            return Err("bad_handshake_header");
        }
        match msg.first() {
            Some(1) => {
                let o = self.responder.handle_init(now, msg);
                match o.event {
                    Some(HandshakeEvent::Established(s)) => {
                        self.reply_to(from, via, s.peer, o.transmit.as_deref());
                        self.add_session(now, *s, from, false, via)
                    }
                    Some(HandshakeEvent::Duplicate { peer, .. }) => {
                        self.reply_to(from, via, peer, o.transmit.as_deref());
                        self.out.counters.handshake_duplicates += 1;
                        Ok(())
                    }
                    Some(HandshakeEvent::Failed(e) | HandshakeEvent::Rejected(e)) => {
                        Err(handshake_reason(e))
                    }
                    None => Err("handshake_internal"),
                }
            }
            Some(2) => {
                if msg.len() < PREAMBLE_LEN {
                    return Err("handshake_malformed");
                }
                let mut id = [0u8; 8];
                id.copy_from_slice(&msg[10..18]);
                let responder = NodeId(u64::from_le_bytes(id));
                let Some(init) = self
                    .peers
                    .get_mut(&responder)
                    .and_then(|p| p.connecting.as_mut())
                else {
                    return Err("handshake_unexpected");
                };
                let o = init.handle_reply(msg);
                match o.event {
                    Some(HandshakeEvent::Established(s)) => {
                        if let Some(p) = self.peers.get_mut(&responder) {
                            p.connecting = None;
                        }
                        self.add_session(now, *s, from, true, via)
                    }
                    Some(HandshakeEvent::Failed(e)) => {
                        if let Some(p) = self.peers.get_mut(&responder) {
                            p.connecting = None;
                            p.last_error = Some(e);
                        }
                        self.out.counters.handshakes_failed += 1;
                        self.out.events.push_back(Event::ConnectFailed {
                            peer: responder,
                            error: e,
                        });
                        Err(handshake_reason(e))
                    }
                    Some(HandshakeEvent::Rejected(e)) => Err(handshake_reason(e)),
                    Some(HandshakeEvent::Duplicate { .. }) | None => Err("handshake_internal"),
                }
            }
            _ => Err("handshake_malformed"),
        }
    }

    /// Keeps at most [`MAX_SESSIONS_PER_PEER`] - 1 sessions of `peer` before a new one is
    /// added, dropping the least recently heard ones that are not its current session.
    fn evict_old_sessions(&mut self, peer: NodeId) {
        let current = self.peers.get(&peer).and_then(|p| p.current);
        loop {
            let mut count = 0usize;
            let mut oldest: Option<(Instant, u64)> = None;
            for (&sid, sess) in &self.sessions {
                if sess.peer != peer {
                    continue;
                }
                count += 1;
                if Some(sid) != current && oldest.is_none_or(|(t, _)| sess.last_rx < t) {
                    oldest = Some((sess.last_rx, sid));
                }
            }
            match oldest {
                Some((_, sid)) if count >= MAX_SESSIONS_PER_PEER => {
                    self.sessions.remove(&sid);
                    self.out.counters.sessions_evicted += 1;
                }
                _ => return,
            }
        }
    }

    /// Sends a responder's Reply (if any) back to `from`: directly, or for a routed Init
    /// behind a routing header addressed to the initiator `peer`.
    fn reply_to(&mut self, from: SocketAddr, via: Option<Via>, peer: NodeId, reply: Option<&[u8]>) {
        let Some(msg) = reply else {
            return;
        };
        let route = via.map(|_| self.route_header(peer));
        if let Some(data) = handshake_datagram(msg, route.as_ref()) {
            if route.is_some() {
                self.out.counters.routed_sent += 1;
            }
            self.out.transmit(from, data);
        }
    }

    /// Adds a freshly agreed session. The initiator's is usable at once (it sends a heartbeat
    /// so the responder learns the session works); the responder's becomes the peer's current
    /// session only when an authentic packet arrives on it, so a replayed Init cannot displace
    /// a live session. A session agreed directly gets the peer's address (and the initiator
    /// a direct route); one agreed through a relay (`via`) has no address, and a responder
    /// without a route to the initiator through that relay learns one (the way back, as
    /// long as the Init travelled).
    fn add_session(
        &mut self,
        now: Instant,
        s: Session,
        from: SocketAddr,
        initiator: bool,
        via: Option<Via>,
    ) -> Result<(), &'static str> {
        let cipher = PacketCipher::new(&s.keys).map_err(|_| "handshake_internal")?;
        let sid = s.session_id;
        if self.sessions.contains_key(&sid) {
            return Err("duplicate_session");
        }
        self.evict_old_sessions(s.peer);
        let addr = via.is_none().then_some(from);
        if let Some(v) = via
            && !initiator
            && !self
                .routes
                .routes(s.peer.0)
                .iter()
                .any(|r| r.next_hop == v.neighbour.0)
        {
            update_routes(&mut self.routes, &mut self.out, |t| {
                t.add_via(s.peer.0, v.neighbour.0, v.hops);
            });
        }
        if initiator && addr.is_some() {
            if let Some(p) = self.peers.get_mut(&s.peer) {
                p.addr = addr;
            }
            routing::add_direct(
                &mut self.routes,
                &mut self.peers,
                &mut self.out,
                self.config.link_detector(),
                s.peer,
                now,
            );
        }
        let detector_cfg = self.config.detector;
        let peer = self
            .peers
            .entry(s.peer)
            .or_insert_with(|| Peer::new(addr, Dial::Direct(from)));
        let mut sess = Sess {
            peer: s.peer,
            addr,
            cipher,
            confirmed: initiator,
            initiator,
            last_tx: now,
            last_direct_heartbeat: now,
            last_rx: now,
            send: HashMap::new(),
            recv: HashMap::new(),
            active: VecDeque::new(),
            queued: false,
            reasm: Reassembler::new(self.config.stream.reassembly_limits()),
        };
        self.out.counters.sessions_established += 1;
        if initiator {
            peer.current = Some(sid);
            match &mut peer.detector {
                Some(d) => {
                    if let Some(change) = d.heard(now) {
                        self.out.events.push_back(Event::Health {
                            peer: s.peer,
                            change,
                        });
                    }
                }
                None => peer.detector = Some(FailureDetector::new(detector_cfg, now)),
            }
            self.out.events.push_back(Event::Connected {
                peer: s.peer,
                addr: from,
                session_id: sid,
                initiator: true,
            });
            let path = path_for(
                &self.routes,
                &self.peers,
                self.me,
                self.config.max_hops,
                &sess,
            );
            let hears = link_report::hears(&self.peers, s.peer);
            if link_report::send_heartbeat(
                sid,
                &mut sess,
                &mut self.out,
                self.origin_hash,
                now,
                path.as_ref(),
                hears,
            ) {
                self.out.counters.heartbeats_sent += 1;
            }
        } else if let Some(p) = self.peers.get_mut(&s.peer)
            && p.detector.is_none()
        {
            p.detector = Some(FailureDetector::new(detector_cfg, now));
        }
        self.sessions.insert(sid, sess);
        Ok(())
    }
}
