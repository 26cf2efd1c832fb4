/*
 * lease.pml -- the tguard lease protocol (lock/*.go, docs/PROTOCOL.md) and
 * the fence that guards the index (indexer/, rust/src/fenced_dir.rs) in
 * Promela, for spin 6.  README.md in this folder says what is modelled, what
 * is abstracted away, the bounds, the results and how to run it;
 * tests/scripts/spin-check.sh runs every check.
 *
 * Properties, as assertions:
 *   ME   never two processes that each hold a valid lease.  A process holds
 *        from its grant (its mkdir of <G> and the listing that proves <G>
 *        newest) until its deadline passes on its own clock, a renewal
 *        proves the lease lost, or its release mkdir.  Checked at every step
 *        where a process gains validity (a grant; a renewal that moves its
 *        deadline): the only steps where the number of valid holders grows.
 *        A holder that is "excused" is not counted: one whose generation an
 *        operator force-broke (BREAK), whose clock stood still while its VM
 *        was paused (VMPAUSE), or whose lease folder was deleted (DELETE).
 *        Such a holder still believes in its lease until its own deadline;
 *        only the fence protects the index from it.  After a deletion of
 *        the lease folder ME is not checked at all (names are made twice).
 *   TOK  every grant's token is strictly greater than every earlier grant's
 *        token (so no token is granted twice).  Not checked after a
 *        deletion of the lease folder, where generations restart.
 *   KEYS a key (G,k), once superseded, never becomes current again (what
 *        makes the one-clock abstraction exact; not after a deletion).
 * With INDEX (the index and its fence):
 *   LOST no lost update: a document once published in meta is in every
 *        later meta.  Checked at every publish.
 *   FLOOR a valid grant's token (its deadline not passed) is greater than
 *        meta's token at the grant.  It needs the lease folder to be
 *        deleted only while no attempt or lease is under way (DELETE, as
 *        between runs); DELETE_ANYTIME shows why.
 *
 * The default is the protocol as it is: every process has its
 * own lease duration (LEASE_A or LEASE_B) and declares it (lease-<d>) before
 * its grant mkdir; a waiter whose reading of the holder's record fails waits
 * for the longest of its own and the declared durations; a grant whose
 * token floor F (meta's token) is above the generation G it read wins G+1
 * and, holding it, skips ahead to F+1 (lock/filebackend.go, jump); the index
 * publishes only through the compare-and-set fence, its check and the
 * rename one step (an assumption: PUBLISH_WINDOW shows why).  And: a
 * process never
 * removes a name it made; a grant that its listing cannot prove newest is
 * given back by releasing it (slot 1 + "released"); a renewal that returns
 * after the deadline ends the lease.
 *
 * Switches (spin -DNAME):
 *   what else happens -- off by default
 *     INDEX           the index: a shared meta (version, token, the grant that
 *                     published it, its documents) and one document per
 *                     writer, published through the fence
 *     BREAK           an operator force-breaks the current generation
 *                     (MAXBREAK times, default 1), without waiting
 *     VMPAUSE         a holder's clock may stand still (a paused KVM guest:
 *                     CLOCK_BOOTTIME does not count)
 *     DELETE          an operator deletes the lease folder (MAXDEL times,
 *                     default 1) while no attempt or lease is under way:
 *                     generations restart
 *     DELETE_ANYTIME  the same at any moment (a limit: FLOOR fails)
 *   an earlier version of the code, whose bugs the model found
 *     OLD_RMDIR       grant() and end() rmdir the name they made when the
 *                     listing after it fails or shows a newer name
 *     OLD_REVIVE      a renewal that returns after the deadline (before the
 *                     watchdog ran) moves the deadline: the lease revives
 *   faults -- all on by default
 *     NO_LIST_ERRORS  the listing after a mkdir never fails
 *     NO_IO_ERRORS    no mkdir fails with an I/O error (by default the
 *                     renewal and release mkdirs may fail without landing
 *                     or land and report an error; the grant and end mkdirs
 *                     may land and report an error)
 *     FRESH_READS     every reading is of the present state
 *     MAXCRASH=n      at most n crashes (default 1)
 *   abstraction
 *     PERKEY          one clock per key (exact first-appearance ages) instead
 *                     of one clock for the current key; implied by OLD_RMDIR
 *   controls -- each must make spin find a violation (with the default)
 *     BUG_NO_VERIFY   no listing after the grant or end mkdir
 *     BUG_NO_WAIT     a waiter ends a generation without waiting
 *     BUG_EXCL_CREATE the grant primitive is not exclusive (as O_EXCL on the
 *                     share): a grant may win although <G> exists
 *     BUG_STAMP_AFTER the holder reads its clock after its mkdir returns
 *     BUG_OWN_LEASE   a waiter that cannot read the holder's record waits
 *                     for its own lease only (an earlier version)
 *     OLD_FENCE       the one-way fence of an earlier version: the deadline and "meta's
 *                     token is not above mine", nothing else
 *     NO_CAS          the fence without "meta is still the one I opened"
 *     PUBLISH_WINDOW  the fence's check and the rename are two steps (a
 *                     limit: the assumption is needed)
 *     NO_FLOOR        a grant's token is G+1 whatever meta's token
 *     FLOOR_NAIVE     a grant makes max(G, F) + 1 at once, instead of
 *                     skipping ahead while it holds G+1
 *   bounds
 *     NPROC (2 or 3 processes), NG (generations, 1..4), NS (slots per
 *     generation, 1..5), LEASE_A and LEASE_B (clock ticks; process 1 runs
 *     with LEASE_B, the others with LEASE_A; margin = lease/10 rounded up),
 *     MAXTRY (publish attempts per writer, default 2)
 */

#ifndef NPROC
#define NPROC 2
#endif
#ifndef NG
#define NG 3
#endif
#ifndef NS
#define NS 3
#endif
#ifndef LEASE_A
#define LEASE_A 4
#endif
#ifndef LEASE_B
#define LEASE_B 8
#endif
#ifndef MAXCRASH
#define MAXCRASH 1
#endif
#ifndef MAXBREAK
#define MAXBREAK 1
#endif
#ifndef MAXDEL
#define MAXDEL 1
#endif
#ifndef MAXTRY
#define MAXTRY 2
#endif

#if defined(DELETE_ANYTIME) && !defined(DELETE)
#define DELETE
#endif
#if defined(DELETE) && (defined(OLD_RMDIR) || defined(PERKEY))
#error DELETE needs the one-clock abstraction
#endif
#if (defined(OLD_FENCE) || defined(NO_CAS) || defined(PUBLISH_WINDOW) || defined(NO_FLOOR) || defined(FLOOR_NAIVE)) && !defined(INDEX)
#error the fence and floor switches need INDEX
#endif

/* Lease durations.  Each process has its own; the margin is lease/10
 * rounded up (at least 1 tick).  The holder's deadline is stamp + lease -
 * margin; a waiter ends a key it saw unchanged for lease' + margin(lease'),
 * lease' the longer of its own and the holder's (see WAITED). */
#define DUR(p)       ((p) == 1 -> LEASE_B : LEASE_A)
#define MARGIN_OF(l) (((l) + 9) / 10)
#define HOLDFOR(p)   (DUR(p) - MARGIN_OF(DUR(p)))
#define WAIT_OF(l)   ((l) + MARGIN_OF(l))
#define MAXL(a,b)    ((a) > (b) -> (a) : (b))
#define WAITMAX      WAIT_OF(MAXL(LEASE_A, LEASE_B))
/* the declared durations, lease-<d> in the lease folder: bit 0 LEASE_A,
 * bit 1 LEASE_B */
#define DBIT(p)      (DUR(p) == LEASE_B -> 2 : 1)
#define DECLMAX(d)   MAXL(((d) & 2) -> LEASE_B : 0, ((d) & 1) -> LEASE_A : 0)

/* processes 0 and 1 share a host; process 2 is on another host */
#define HOST(p) ((p) == 2 -> 1 : 0)

/* The operator (BREAK, DELETE) is one more process, pid OP, after the
 * lockers 0..NPROC-1; it never holds the lease. */
#if defined(BREAK) || defined(DELETE)
#define NP (NPROC + 1)
#define OP NPROC
#else
#define NP NPROC
#define OP 255
#endif

/* ------------------------------------------------------------------ */
/* The share, one bit per name:                                        */
/*   gens      bit g: folder .tguard-lease/<g>                         */
/*   slots[g]  bit s: folder <g>/<s>                                   */
/*   declared  the lease-<d> names in .tguard-lease (see DBIT)         */
/* and what stale readings may show, every name that ever existed:     */
/*   gensEver, slotsEver[g]                                            */
/* The markers and owner.json files are below, with the clocks: with   */
/* PERKEY every generation's, with one clock the highest one's.        */
/* ------------------------------------------------------------------ */
byte gens, gensEver;
byte slots[NG+1], slotsEver[NG+1];
byte declared;
byte lastTok;        /* the highest token granted so far */
#ifdef BREAK
byte nbreak;         /* force-breaks so far */
#endif
#ifdef DELETE
byte ndel;           /* deletions of the lease folder so far */
#define DELETED (ndel > 0)
#else
#define DELETED 0
#endif
#if defined(PERKEY) || defined(OLD_RMDIR) || defined(DELETE)
byte ti;             /* a loop counter, 0 between steps */
#endif

/* Time of the keys a waiter watches.  A key (g,s) is the name <g> for
 * s = 0, <g>/<s> otherwise; a waiter's watch of it starts no earlier than
 * the moment it first appeared.
 *
 * PERKEY (implied by OLD_RMDIR, whose rmdirs can make a key newest again):
 * age[key] counts the ticks since the key first appeared, capped at
 * WAITMAX, for every key.
 *
 * Otherwise: one clock.  cur is the key a fresh reading shows,
 * (highest generation, its highest slot), a function of the names, so it
 * adds no states; cage counts the ticks since cur first appeared.  Keys
 * that are not current may be ended at any time (see EXPIRED).  This is
 * exact only if a key never becomes current again once superseded: the
 * model asserts that (KEYS), except with DELETE: a deletion of the lease
 * folder makes names again.  Between runs (DELETE) no waiter remembers a
 * watch from before, and a key's clock starts when it is made again;
 * with DELETE_ANYTIME a waiter may have watched a key before the deletion
 * and ends it at once when it is made again (remade), as the code can. */
#define KEY(g,s)   ((g) * (NS + 1) + (s))
#define NKEYS      ((NG + 1) * (NS + 1))
#define CURKEY     KEY(MAXBIT(gens), MAXBIT(slots[MAXBIT(gens)]))
#ifdef OLD_RMDIR
#ifndef PERKEY
#define PERKEY
#endif
#endif
#ifdef PERKEY
byte ended;            /* bit g: a marker was ever written in <g> */
byte owner[NG+1];      /* owner.json of <g>, written once: owner pid + 1 */
byte decl[NG+1];       /* declared when <g> was first made */
byte age[NKEYS];
#define UPDCUR(first) skip
#else
byte cur, cage;
/* With one clock only the highest generation's marker, owner.json and
 * declared durations matter (any other key may be ended at any time, and
 * any lower generation may be read as ended, see READABLE_FREE): mended,
 * mowner, mdecl. */
bit  mended;
byte mowner;
byte mdecl;            /* declared when the highest generation was made */
#if defined(DELETE_ANYTIME)
/* after a deletion, names are made again: a key that existed before may
 * have been watched by a waiter then, which ends it at once */
bit  remade;
#define NEWKEY(first) remade = !(first)
#elif defined(DELETE)
/* between runs: no waiter remembers a watch from before the deletion */
#define NEWKEY(first) skip
#else
#define NEWKEY(first) assert(first) /* KEYS */
#endif
#define UPDCUR(first) \
	if \
	:: CURKEY != cur -> \
		NEWKEY(first); \
		if :: cur / (NS + 1) != MAXBIT(gens) -> mended = 0; mowner = 0; mdecl = 0 :: else -> skip fi; \
		cur = CURKEY; cage = 0 \
	:: else -> skip \
	fi
#endif

#define BIT(i)      (1 << (i))
#define HAS(m,i)    ((((m) >> (i)) & 1) == 1)
#define MAXBIT(m)   (((m) & 32) -> 5 : (((m) & 16) -> 4 : (((m) & 8) -> 3 : (((m) & 4) -> 2 : (((m) & 2) -> 1 : 0)))))

/* a listing of .tguard-lease that shows <g> also shows every lease-<d>
 * declared before <g> was made (those names are never removed); that is
 * the least it can show, and the least gives the shortest waits */
#ifdef PERKEY
#define SETDECL(g) if :: !HAS(gensEver, g) -> decl[g] = declared :: else -> skip fi
#else
#define SETDECL(g) if :: (g) == MAXBIT(gens) -> mdecl = declared :: else -> skip fi
#endif
#define MKGEN(g)       gens = gens | BIT(g); UPDCUR(!HAS(gensEver, g)); SETDECL(g); gensEver = gensEver | BIT(g)
#define MKSLOT(g,s)    slots[g] = slots[g] | BIT(s); UPDCUR(!HAS(slotsEver[g], s)); slotsEver[g] = slotsEver[g] | BIT(s)
#define RMSLOT(g,s)    slots[g] = slots[g] & ~BIT(s); UPDCUR(0)
#define RMGEN(g)       gens = gens & ~BIT(g); slots[g] = 0; UPDCUR(0)      /* os.RemoveAll */
/* mkdir <g>/<s> succeeds iff <g> exists and <s> does not */
#define CANMKSLOT(g,s) (HAS(gens, g) && !HAS(slots[g], s))
/* a marker file in <g>/<s>; a write may always fail */
#ifdef PERKEY
#define SETENDED(g) ended = ended | BIT(g)
#define SETOWNER(g) owner[g] = me + 1
#else
#define SETENDED(g) if :: (g) == MAXBIT(gens) -> mended = 1 :: else -> skip fi
#define SETOWNER(g) if :: (g) == MAXBIT(gens) -> mowner = me + 1 :: else -> skip fi
#endif
#define MARK(g,s) \
	if \
	:: HAS(gens, g) && HAS(slots[g], s) -> SETENDED(g); printf("P%d: marker in %d/%d\n", me, g, s) \
	:: true -> printf("P%d: the marker write fails\n", me) \
	fi

/* ------------------------------------------------------------------ */
/* Processes: one Locker each.  Global arrays, so that the clock can   */
/* age them.                                                           */
/* ------------------------------------------------------------------ */
#define IDLE     0  /* attempt(): stamp, readView, decide                   */
#define END_MK   1  /* end(): mkdir <tok>/<k+1> (FRESH_READS only)          */
#define END_LS   2  /* end(): list <tok>; then rmdir, or marker             */
#define GR_MK    3  /* grant(): lease-<d>, mkdir <tok>                      */
#define GR_LS    4  /* grant(): list; then rmdir, or owner.json             */
#define JP_MK    5  /* jump(), holding <tok>: mkdir <F+1>                   */
#define JP_LS    6  /* jump(): list; owner.json                             */
#define JP_END   7  /* jump(): mkdir <tok>/<k+1>, "released"                */
#define GR_GC    8  /* grant(): RemoveAll below tok-1; Valid()      holds   */
#define HOLD     9  /* renewLoop, watchdog, Release                 holds   */
#define RN_RET  10  /* BUG_STAMP_AFTER: renewal landed, not yet returned    */
#define DEAD    11  /* crashed                                              */
#define STOP    12  /* a waiter at the bounds of the model: stops           */

byte pc[NP];
byte tok[NP];     /* the generation being ended, granted or held          */
byte k[NP];       /* end(): the slot read; holder: its newest slot        */
byte rem[NP];     /* holder: ticks before its deadline (0: passed)        */
byte sage[NP];    /* ticks since attempt()'s stamp, until the grant       */
#if defined(BREAK) || defined(VMPAUSE) || defined(DELETE)
bit  exc[NP];     /* excused from ME: broken, clock stopped, folder gone  */
#define EXC(p)       exc[p]
#define EXCUSE(p)    exc[p] = 1
#define UNEXCUSE     exc[me] = 0
#else
#define EXC(p)       0
#define UNEXCUSE     skip
#endif
#ifdef INDEX
byte fl[NP];      /* the token floor read before the grant: meta's token  */
#define FLRESET      fl[me] = 0
#define JUMPTO(p)    (fl[p] + 1)
#else
#define FLRESET      skip
#define JUMPTO(p)    255
#endif

#define me _pid
#define HOLDING(p) (pc[p] == GR_LS || pc[p] == GR_GC || pc[p] == HOLD || pc[p] == RN_RET)
#define STAMPED(p) (pc[p] >= END_MK && pc[p] <= JP_END)
#define JUMPING(p) (pc[p] == JP_LS || pc[p] == JP_END)
#define INFLIGHT(p) (pc[p] != IDLE && pc[p] != DEAD && pc[p] != STOP)
/* DELETE: the lease folder is deleted while no attempt or lease is under
 * way (between runs); DELETE_ANYTIME: at any moment */
#ifdef DELETE_ANYTIME
#define QUIET 1
#elif NPROC == 2
#define QUIET (!INFLIGHT(0) && !INFLIGHT(1))
#else
#define QUIET (!INFLIGHT(0) && !INFLIGHT(1) && !INFLIGHT(2))
#endif
#define VALIDP(p)  (((pc[p] == GR_GC || pc[p] == HOLD || pc[p] == RN_RET) && rem[p] > 0 && !EXC(p)) -> 1 : 0)
#define DEADP(p)   ((pc[p] == DEAD) -> 1 : 0)
#if NPROC == 2
#define NVALID (VALIDP(0) + VALIDP(1))
#define NDEAD  (DEADP(0) + DEADP(1))
#else
#define NVALID (VALIDP(0) + VALIDP(1) + VALIDP(2))
#define NDEAD  (DEADP(0) + DEADP(1) + DEADP(2))
#endif
#define CHECK_ME holders = NVALID; assert(holders <= 1 || DELETED); holders = 0     /* ME */

/* ------------------------------------------------------------------ */
/* The index (INDEX).  meta is what meta.json says: mver counts the    */
/* publishes (two metas with one version are the same file), mtok is   */
/* the token in its payload, mby the grant that published it (pid + 1  */
/* while that grant lasts: the per-grant nonce; PAST once its process  */
/* was granted again), mdocs its documents, one bit per writer.        */
/* A writer has one document, journaled: it opens meta (ip OPEN,       */
/* over and odocs what it read), writes its document, and publishes    */
/* meta = odocs + its document through the fence, or is refused and   */
/* keeps the document journaled (PEND) for a later try (MAXTRY).       */
/* ------------------------------------------------------------------ */
#ifdef INDEX
#define I_PEND 0
#define I_OPEN 1
#define I_CHKD 2    /* PUBLISH_WINDOW: the check passed, the rename is next */
#define I_DONE 3
#ifdef PUBLISH_WINDOW
/* the rename is in flight: the holder's lease ends after it returns */
#define RENAMING (ip[me] == I_CHKD)
/* a dead process has no I/O in flight (an assumption of the protocol,
 * which the dead-holder fast path relies on) */
#define DIES if :: ip[me] == I_CHKD -> ip[me] = I_PEND :: else -> skip fi
#endif
#define PAST   (NP + 1)
byte mver, mtok, mby, mdocs;
byte ip[NP], over[NP], odocs[NP], tries[NP];
#if NPROC == 2
#define PUBLISHED ((ip[0] == I_DONE -> 1 : 0) | (ip[1] == I_DONE -> 2 : 0))
#else
#define PUBLISHED ((ip[0] == I_DONE -> 1 : 0) | (ip[1] == I_DONE -> 2 : 0) | (ip[2] == I_DONE -> 4 : 0))
#endif
/* a lease lost or over: an opened index is dropped, the document stays
 * journaled (a publish in flight, PUBLISH_WINDOW, goes on) */
#define IDXRESET if :: ip[me] == I_OPEN -> ip[me] = I_PEND; over[me] = 0; odocs[me] = 0 :: else -> skip fi
/* WithTokenFloor: read right before a grant (meta.json, fresh) */
#ifdef NO_FLOOR
#define READFLOOR skip
#else
#define READFLOOR fl[me] = mtok
#endif
/* the token after generation g: g+1, and then a jump to F+1 while holding
 * g+1 if F > g (see JP_MK); FLOOR_NAIVE: max(g, F) + 1 at once */
#ifdef FLOOR_NAIVE
#define NEXT(g)  (MAXL(g, fl[me]) + 1)
#define JUMP     0
#else
#define NEXT(g)  ((g) + 1)
#define JUMP     (fl[me] >= tok[me])
#endif
#else
#define IDXRESET skip
#define READFLOOR skip
#define NEXT(g)  ((g) + 1)
#define JUMP     0
#endif
#ifndef RENAMING
#define RENAMING 0
#define DIES skip
#endif

/* back to attempt(), after errRaced or any other error or a lease's end */
#define TOIDLE  pc[me] = IDLE; tok[me] = 0; k[me] = 0; rem[me] = 0; sage[me] = 0; UNEXCUSE; FLRESET; IDXRESET

/* ------------------------------------------------------------------ */
/* readView and the waiter's watch.                                    */
/*                                                                     */
/* Stale readings (default): readView lists the lease folder, lists    */
/* the generation, looks for a marker and reads owner.json; each may   */
/* be stale on its own, so a reading may show any generation that ever */
/* existed, any slot that ever existed in it, "ended" once a marker    */
/* was ever written in it, and owner.json or nothing.                  */
/* FRESH_READS: a reading shows the present state.                     */
/*                                                                     */
/* The watch: the code ends (G,k) when two of its readings, at least   */
/* lease' + margin apart, both showed (G,k) and none between showed    */
/* anything else; the first is no earlier than the moment (G,k) first  */
/* appeared.  The model lets an idle process end a key it can read     */
/* once the key first appeared lease' + margin ago or more: every      */
/* ending the code can do, without a watch per waiter.  With one clock */
/* (not PERKEY) a key that is not current may be ended at any time:    */
/* more endings than the code can do (the protocol relies on mkdir and */
/* the listing, not on time, to make ending a superseded key harmless) */
/*                                                                     */
/* lease': with the holder's record read, the longer of the waiter's   */
/* own lease and the record's; with the record unreadable (not yet     */
/* renamed into <G>, an I/O error, a stale reading: always possible),  */
/* the longest of its own and the lease-<d> names of the listing.      */
/* ------------------------------------------------------------------ */
#ifdef PERKEY
#define ENDED(g)  HAS(ended, g)
#define OWNER(g)  owner[g]
#else
#define ENDED(g)  ((g) == MAXBIT(gens) -> mended : 1)
#define OWNER(g)  ((g) == MAXBIT(gens) -> mowner : 0)
#endif
#ifdef FRESH_READS
#define READABLE_FREE(g)   ((g) == MAXBIT(gens) && ((g) == 0 || ENDED(g)))
#define READABLE_HELD(g,s) ((g) == MAXBIT(gens) && (s) == MAXBIT(slots[g]) && !ENDED(g))
#else
#define READABLE_FREE(g)   ((g) == 0 || (HAS(gensEver, g) && ENDED(g)))
#define READABLE_HELD(g,s) (HAS(gensEver, g) && ((s) == 0 || HAS(slotsEver[g], s)))
#endif
/* judgeHolder == fateDead: owner.json names a crashed process of this host
 * (a waiter that cannot read owner.json simply waits: another option) */
#define PROVABLY_DEAD(g) (OWNER(g) != 0 && pc[OWNER(g) - 1] == DEAD && HOST(OWNER(g) - 1) == HOST(me))
#define RECWAIT(o)  WAIT_OF(MAXL(DUR(me), DUR((o) - 1)))
#ifdef BUG_OWN_LEASE
#define UNRWAIT(d)  WAIT_OF(DUR(me))
#else
#define UNRWAIT(d)  WAIT_OF(MAXL(DUR(me), DECLMAX(d)))
#endif
/* a watch of a key that first appeared a ticks ago, record o, declared d */
#define WAITED(a,o,d) (((o) != 0 && (a) >= RECWAIT(o)) || (a) >= UNRWAIT(d))
#ifdef BUG_NO_WAIT
#define EXPIRED(g,s) (1)
#else
#ifdef PERKEY
#define EXPIRED(g,s) WAITED(age[KEY(g,s)], owner[g], decl[g])
#else
#ifdef DELETE_ANYTIME
#define EXPIRED(g,s) (KEY(g,s) != cur || remade || WAITED(cage, mowner, mdecl))
#else
#define EXPIRED(g,s) (KEY(g,s) != cur || WAITED(cage, mowner, mdecl))
#endif
#endif
#endif
#define ENDABLE(g,s) ((g) <= NG && (s) <= NS && READABLE_HELD(g,s) && (EXPIRED(g,s) || PROVABLY_DEAD(g)))
#define GRANTABLE(g) ((g) <= NG && READABLE_FREE(g))

/* the outcomes of one attempt ("held" is no step at all) */
#define GRANT_OPT(g) \
	:: GRANTABLE(g) -> printf("P%d reads %d free or ended: grants %d\n", me, g, NEXT(g)); \
		tok[me] = NEXT(g); pc[me] = GR_MK
#define END_OPT(g,s) \
	:: ENDABLE(g,s) -> printf("P%d reads (%d,%d): expired or holder dead, ends it\n", me, g, s); \
		tok[me] = g; k[me] = s; pc[me] = END_MK
#define END_OPTS(g) END_OPT(g,0) END_OPT(g,1) END_OPT(g,2) END_OPT(g,3) END_OPT(g,4) END_OPT(g,5)
/* the operator's force-break: any key it can read as held, at once */
#define BRK_OPT(g,s) \
	:: (g) <= NG && (s) <= NS && READABLE_HELD(g,s) -> printf("P%d (operator) reads (%d,%d): breaks it\n", me, g, s); \
		tok[me] = g; k[me] = s; pc[me] = END_MK
#define BRK_OPTS(g) BRK_OPT(g,0) BRK_OPT(g,1) BRK_OPT(g,2) BRK_OPT(g,3) BRK_OPT(g,4) BRK_OPT(g,5)

/* a force-break's slot ends the holder of g, which is not told: it is
 * excused from ME from then on (it still believes in its lease) */
#if defined(BREAK)
#define EXCUSE_IF(p,g) if :: (HOLDING(p) && tok[p] == (g)) || (JUMPING(p) && JUMPTO(p) == (g)) -> EXCUSE(p) :: else -> skip fi
#if NPROC == 2
#define BROKE(g) EXCUSE_IF(0, g); EXCUSE_IF(1, g)
#else
#define BROKE(g) EXCUSE_IF(0, g); EXCUSE_IF(1, g); EXCUSE_IF(2, g)
#endif
#define BREAKS(g,s) if :: me == OP && MAXBIT(slots[g]) == (s) -> BROKE(g) :: else -> skip fi
#else
#define BREAKS(g,s) skip
#endif

/* end(): mkdir <G>/<k+1> */
inline end_mkdir() {
	if
	:: k[me] + 1 > NS -> TOIDLE; pc[me] = STOP
	:: k[me] + 1 <= NS && CANMKSLOT(tok[me], k[me] + 1) ->
		printf("P%d end: mkdir %d/%d ok\n", me, tok[me], k[me] + 1);
		MKSLOT(tok[me], k[me] + 1); BREAKS(tok[me], k[me] + 1); pc[me] = END_LS
	:: k[me] + 1 <= NS && !CANMKSLOT(tok[me], k[me] + 1) ->
		printf("P%d end: mkdir %d/%d fails: raced\n", me, tok[me], k[me] + 1);
		TOIDLE
#ifndef NO_IO_ERRORS
	:: k[me] + 1 <= NS && CANMKSLOT(tok[me], k[me] + 1) ->
		printf("P%d end: mkdir %d/%d lands, reports an I/O error\n", me, tok[me], k[me] + 1);
		MKSLOT(tok[me], k[me] + 1); BREAKS(tok[me], k[me] + 1); TOIDLE
#endif
	fi
}

/* grant(): make sure lease-<d> exists, then mkdir <G>.  The declaration is
 * taken at the mkdir: the latest it can be, the fewest listings show it. */
inline grant_mkdir() {
	if
	:: tok[me] > NG -> TOIDLE; pc[me] = STOP
	:: tok[me] <= NG && !HAS(gens, tok[me]) ->
		printf("P%d grant: lease-%d, mkdir %d ok\n", me, DUR(me), tok[me]);
		declared = declared | DBIT(me);
		MKGEN(tok[me]); pc[me] = GR_LS
	:: tok[me] <= NG && HAS(gens, tok[me]) ->
		printf("P%d grant: mkdir %d fails: raced\n", me, tok[me]);
		TOIDLE
#ifndef NO_IO_ERRORS
	:: tok[me] <= NG && !HAS(gens, tok[me]) ->
		printf("P%d grant: lease-%d, mkdir %d lands, reports an I/O error\n", me, DUR(me), tok[me]);
		declared = declared | DBIT(me);
		MKGEN(tok[me]); TOIDLE
#endif
#ifdef BUG_EXCL_CREATE
	:: tok[me] <= NG && HAS(gens, tok[me]) ->
		printf("P%d grant: mkdir %d wins although it exists\n", me, tok[me]);
		declared = declared | DBIT(me);
		pc[me] = GR_LS
#endif
	fi
}

/* fileGrant.Release of generation g whose newest slot is s: mkdir
 * <g>/<s+1>, then "released" */
inline release_at(g, s) {
	if
	:: s + 1 <= NS && CANMKSLOT(g, s + 1) ->
		printf("P%d release: mkdir %d/%d\n", me, g, s + 1);
		MKSLOT(g, s + 1); MARK(g, s + 1)
	:: s + 1 > NS || !CANMKSLOT(g, s + 1) -> skip                   /* had been lost */
#ifndef NO_IO_ERRORS
	:: true -> skip                                                 /* I/O error */
	:: s + 1 <= NS && CANMKSLOT(g, s + 1) ->
		MKSLOT(g, s + 1)                                            /* landed, error */
#endif
	fi
}

/* the holder's Release: the lease ends at its mkdir */
inline release() {
	release_at(tok[me], k[me]);
	TOIDLE
}

#ifdef INDEX
/* the fence, right before the rename of meta.json: (a) our deadline has
 * not passed, (b) meta's token is not above ours, (c) if equal, meta was
 * published by this very grant (the nonce), (d) meta is still the one we
 * opened */
#if defined(OLD_FENCE)
#define FENCE_OK (rem[me] > 0 && mtok <= tok[me])
#elif defined(NO_CAS)
#define FENCE_OK (rem[me] > 0 && mtok <= tok[me] && (mtok != tok[me] || mby == me + 1))
#else
#define FENCE_OK (rem[me] > 0 && mtok <= tok[me] && (mtok != tok[me] || mby == me + 1) && mver == over[me])
#endif
/* the rename: meta := what we opened + our document */
#define PUBLISH \
	printf("P%d PUBLISHES token %d: docs %d -> %d\n", me, tok[me], mdocs, odocs[me] | BIT(me)); \
	assert(((odocs[me] | BIT(me)) & PUBLISHED) == PUBLISHED);   /* LOST */ \
	mdocs = odocs[me] | BIT(me); mver++; mtok = tok[me]; mby = me + 1; \
	ip[me] = I_DONE; over[me] = 0; odocs[me] = 0
#define REFUSE \
	printf("P%d publish refused (token %d, meta token %d)\n", me, tok[me], mtok); \
	ip[me] = I_PEND; over[me] = 0; odocs[me] = 0; tries[me]++
#endif

/* the grant is complete: the holder's deadline counts from its stamp */
#ifdef BUG_STAMP_AFTER
#define SETREM rem[me] = HOLDFOR(me)
#else
#define SETREM rem[me] = HOLDFOR(me) - sage[me]
#endif
#ifdef INDEX
#define FLOORCHECK assert(rem[me] == 0 || tok[me] > mtok)     /* FLOOR */
/* a new grant, a new nonce: meta published by our last grant is now
 * another grant's */
#define NEWNONCE if :: mby == me + 1 -> mby = PAST :: else -> skip fi
#else
#define FLOORCHECK skip
#define NEWNONCE skip
#endif
#define GRANTED \
	SETREM; \
	printf("P%d GRANTED token %d, valid for %d ticks\n", me, tok[me], rem[me]); \
	FLOORCHECK; NEWNONCE; \
	sage[me] = 0; FLRESET; pc[me] = GR_GC; \
	CHECK_ME

active [NP] proctype Proc()
{
	byte holders;   /* valid holders, counted for ME; 0 between steps */
end_proc:
	do
	/* a crash, at any step: the process stops, its names stay */
	:: atomic { me < NPROC && pc[me] != DEAD && pc[me] != STOP && NDEAD < MAXCRASH ->
		printf("P%d CRASHES\n", me);
		DIES; TOIDLE; pc[me] = DEAD
	   }

	/* Locker.attempt: stamp := monoNow(); fileBackend.Attempt: readView,
	 * then grant(G+1), or end(G,k) then grant(G+1) */
	:: atomic { me < NPROC && pc[me] == IDLE ->
			sage[me] = 0; READFLOOR;
			if
			GRANT_OPT(0) GRANT_OPT(1) GRANT_OPT(2) GRANT_OPT(3) GRANT_OPT(4)
			END_OPTS(1) END_OPTS(2) END_OPTS(3) END_OPTS(4)
			fi;
#ifndef FRESH_READS
			/* with stale readings, reading and then (later) the mkdir is
			 * the same as a stale reading at the mkdir with the latest
			 * stamp, which gives the holder the longest lease: one step */
			if
			:: pc[me] == END_MK -> end_mkdir()
			:: pc[me] == GR_MK -> grant_mkdir()
			fi
#endif
		}
#ifdef BREAK
	/* Break --force: readView, then end(G,k) with "broken", at once */
	:: atomic { me == OP && pc[me] == IDLE && nbreak < MAXBREAK && gensEver != 0 ->
			if
			BRK_OPTS(1) BRK_OPTS(2) BRK_OPTS(3) BRK_OPTS(4)
			fi;
			nbreak++;
#ifndef FRESH_READS
			end_mkdir()
#endif
		}
#endif
#ifdef DELETE
	/* an operator "clears a stale lock": RemoveAll(.tguard-lease), one
	 * step; its holders are not told */
	:: atomic { me == OP && pc[me] == IDLE && ndel < MAXDEL && gens != 0 && QUIET ->
			printf("P%d (operator) DELETES the lease folder\n", me);
			ndel++;
			gens = 0; declared = 0;
			ti = 0;
			do
			:: ti <= NG -> slots[ti] = 0; ti++
			:: else -> break
			od;
			ti = 0;
			UPDCUR(1);
			/* every attempt and lease under way spans the deletion */
			if :: INFLIGHT(0) -> EXCUSE(0) :: else -> skip fi;
			if :: INFLIGHT(1) -> EXCUSE(1) :: else -> skip fi;
#if NPROC > 2
			if :: INFLIGHT(2) -> EXCUSE(2) :: else -> skip fi;
#endif
			skip
		}
#endif
#ifdef FRESH_READS
	:: atomic { pc[me] == END_MK -> end_mkdir() }
#endif

	/* end(): list <G>: our slot must be the newest.  Then write the
	 * marker and go on to grant(G+1), or os.Remove(slot) and fail. */
	:: atomic { pc[me] == END_LS ->
			if
#ifdef BUG_NO_VERIFY
			:: true ->
#else
#ifndef NO_LIST_ERRORS
			:: true ->
				printf("P%d end: listing %d fails\n", me, tok[me]);
				goto fail_end
#endif
			:: !HAS(gens, tok[me]) -> goto fail_end
			:: HAS(gens, tok[me]) && MAXBIT(slots[tok[me]]) != k[me] + 1 ->
				printf("P%d end: listing %d shows slot %d\n", me, tok[me], MAXBIT(slots[tok[me]]));
fail_end:
#ifdef OLD_RMDIR
				if
				:: HAS(gens, tok[me]) && HAS(slots[tok[me]], k[me] + 1) ->
					printf("P%d end: rmdir %d/%d\n", me, tok[me], k[me] + 1);
					RMSLOT(tok[me], k[me] + 1)
				:: else -> skip
				fi;
#endif
				TOIDLE
			:: HAS(gens, tok[me]) && MAXBIT(slots[tok[me]]) == k[me] + 1 ->
#endif
				MARK(tok[me], k[me] + 1);
				if
				:: me == OP -> TOIDLE       /* Break ends; it grants nothing */
				:: else -> tok[me] = NEXT(tok[me]); k[me] = 0; pc[me] = GR_MK
				fi
			fi
		}

	:: atomic { pc[me] == GR_MK -> grant_mkdir() }

	/* grant(): list the lease folder: ours must be the newest generation.
	 * Then fsync + owner.json (if either fails: release), or
	 * os.Remove(genDir) and fail. */
	:: atomic { pc[me] == GR_LS ->
			if
#ifdef BUG_NO_VERIFY
			:: true ->
#else
#ifndef NO_LIST_ERRORS
			:: true ->
				printf("P%d grant: listing fails\n", me);
				goto fail_grant
#endif
			:: MAXBIT(gens) != tok[me] ->
				printf("P%d grant: listing shows %d\n", me, MAXBIT(gens));
fail_grant:
#ifndef OLD_RMDIR
				/* give it back as Release does: mkdir <G>/1, "released" */
				if
				:: CANMKSLOT(tok[me], 1) ->
					printf("P%d grant: gives %d back: mkdir %d/1\n", me, tok[me], tok[me]);
					MKSLOT(tok[me], 1); MARK(tok[me], 1)
				:: else -> skip
				fi;
#else
				if
				:: HAS(gens, tok[me]) && slots[tok[me]] == 0 ->
					printf("P%d grant: rmdir %d\n", me, tok[me]);
					RMGEN(tok[me])
				:: else -> skip   /* not empty: rmdir fails */
				fi;
#endif
				TOIDLE
			:: MAXBIT(gens) == tok[me] ->
#endif
				assert(tok[me] > lastTok || DELETED);          /* TOK */
				lastTok = tok[me]; k[me] = 0;
				if
				:: HAS(gens, tok[me]) ->
					SETOWNER(tok[me]);
					if
#ifdef INDEX
					:: JUMP ->
						/* the index has seen a higher token than the lease
						 * folder: skip ahead, holding tok (only ever after
						 * a deletion of the lease folder) */
						printf("P%d wins %d; the floor is %d: skips ahead\n", me, tok[me], fl[me]);
						assert(DELETED);
						pc[me] = JP_MK
#endif
					:: else -> GRANTED
					fi
				:: true ->
					printf("P%d grant: fsync or owner.json fails: releases\n", me);
					release()
				fi
			fi
		}

#ifdef INDEX
	/* jump(): holding tok (the claim, newest slot k), make <F+1>.  A
	 * failure gives the claim back (giveBack: Release). */
	:: atomic { pc[me] == JP_MK ->
			if
			:: fl[me] + 1 > NG -> release(); pc[me] = STOP
			:: fl[me] + 1 <= NG && !HAS(gens, fl[me] + 1) ->
				printf("P%d jump: mkdir %d ok\n", me, fl[me] + 1);
				MKGEN(fl[me] + 1); pc[me] = JP_LS
			:: fl[me] + 1 <= NG && HAS(gens, fl[me] + 1) ->
				printf("P%d jump: mkdir %d fails: raced, gives %d back\n", me, fl[me] + 1, tok[me]);
				release()
#ifndef NO_IO_ERRORS
			:: fl[me] + 1 <= NG && !HAS(gens, fl[me] + 1) ->
				printf("P%d jump: mkdir %d lands, reports an I/O error\n", me, fl[me] + 1);
				MKGEN(fl[me] + 1); release()
			:: fl[me] + 1 <= NG ->
				printf("P%d jump: mkdir %d fails with an I/O error\n", me, fl[me] + 1);
				release()
#endif
			fi
		}
	/* jump(): list: nothing above the claim but <F+1>; fsync, owner.json.
	 * A failure releases <F+1> and gives the claim back. */
	:: atomic { pc[me] == JP_LS ->
			if
#ifndef NO_LIST_ERRORS
			:: true ->
				printf("P%d jump: listing fails\n", me);
				goto fail_jump
#endif
			:: (gens & ~(BIT(tok[me] + 1) - 1) & ~BIT(fl[me] + 1)) != 0 ->
				printf("P%d jump: listing shows %d\n", me, gens);
				goto fail_jump
			:: true ->
				printf("P%d jump: fsync or owner.json fails\n", me);
fail_jump:
				release_at(fl[me] + 1, 0);
				release()
			:: (gens & ~(BIT(tok[me] + 1) - 1) & ~BIT(fl[me] + 1)) == 0 && HAS(gens, fl[me] + 1) ->
				SETOWNER(fl[me] + 1);
				pc[me] = JP_END
			fi
		}
	/* jump(): the claim's next slot must still be ours: then "released",
	 * and <F+1> is the grant.  Else release <F+1>. */
	:: atomic { pc[me] == JP_END ->
			if
			:: CANMKSLOT(tok[me], k[me] + 1) && k[me] + 1 <= NS ->
				printf("P%d jump: ends %d: mkdir %d/%d\n", me, tok[me], tok[me], k[me] + 1);
				MKSLOT(tok[me], k[me] + 1); MARK(tok[me], k[me] + 1);
				tok[me] = fl[me] + 1; k[me] = 0;
				assert(tok[me] > lastTok || DELETED);          /* TOK */
				lastTok = tok[me];
				GRANTED
			:: !CANMKSLOT(tok[me], k[me] + 1) || k[me] + 1 > NS ->
				printf("P%d jump: %d was ended: releases %d\n", me, tok[me], fl[me] + 1);
				release_at(fl[me] + 1, 0); TOIDLE
#ifndef NO_IO_ERRORS
			:: CANMKSLOT(tok[me], k[me] + 1) && k[me] + 1 <= NS ->
				printf("P%d jump: mkdir %d/%d lands, reports an I/O error: releases %d\n", me, tok[me], k[me] + 1, fl[me] + 1);
				MKSLOT(tok[me], k[me] + 1);
				release_at(fl[me] + 1, 0); TOIDLE
			:: true ->
				printf("P%d jump: mkdir %d/%d fails with an I/O error: releases %d\n", me, tok[me], k[me] + 1, fl[me] + 1);
				release_at(fl[me] + 1, 0); TOIDLE
#endif
			fi
		}
#endif

	/* grant(): RemoveAll generations below tok-1; attempt(): Valid() */
	:: atomic { pc[me] == GR_GC ->
			if :: 1 + 1 < tok[me] && HAS(gens, 1) -> RMGEN(1); printf("P%d grant: RemoveAll 1\n", me) :: else -> skip fi;
			if :: 2 + 1 < tok[me] && HAS(gens, 2) -> RMGEN(2); printf("P%d grant: RemoveAll 2\n", me) :: else -> skip fi;
			if :: 3 + 1 < tok[me] && HAS(gens, 3) -> RMGEN(3); printf("P%d grant: RemoveAll 3\n", me) :: else -> skip fi;
			if
			:: rem[me] > 0 -> pc[me] = HOLD
			:: else -> release()
			fi
		}

	/* the holder */
	:: atomic { pc[me] == HOLD && !RENAMING ->
			if
			/* renewLoop: stamp; Renew: mkdir <G>/<k+1>, os.Remove <G>/<k-1>;
			 * extend(stamp).  The stamp is taken at the mkdir: the latest
			 * a real stamp can be, the longest lease it can give. */
			:: k[me] + 1 <= NS && !CANMKSLOT(tok[me], k[me] + 1) ->
				printf("P%d renew: mkdir %d/%d fails: LOST\n", me, tok[me], k[me] + 1);
				TOIDLE
			:: k[me] + 1 <= NS && CANMKSLOT(tok[me], k[me] + 1) ->
				printf("P%d renew: mkdir %d/%d ok\n", me, tok[me], k[me] + 1);
				MKSLOT(tok[me], k[me] + 1); k[me]++;
				if
				:: k[me] > 2 && HAS(slots[tok[me]], k[me] - 2) ->
					printf("P%d renew: rmdir %d/%d\n", me, tok[me], k[me] - 2);
					RMSLOT(tok[me], k[me] - 2)
				:: else -> skip
				fi;
#ifdef BUG_STAMP_AFTER
				pc[me] = RN_RET
#else
				if
#ifndef OLD_REVIVE
				:: rem[me] == 0 ->
					printf("P%d renew: returned after the deadline: lease over\n", me);
					TOIDLE
#endif
				:: else ->
					rem[me] = HOLDFOR(me);
					printf("P%d renew: valid for %d ticks\n", me, rem[me]);
					CHECK_ME
				fi
#endif
#ifndef NO_IO_ERRORS
			/* (an I/O error that did not land changes nothing) */
			:: k[me] + 1 <= NS && CANMKSLOT(tok[me], k[me] + 1) ->
				printf("P%d renew: mkdir %d/%d lands, reports an I/O error\n", me, tok[me], k[me] + 1);
				MKSLOT(tok[me], k[me] + 1)
#endif
			/* Release: the lease ends at its mkdir */
			:: k[me] + 1 <= NS -> release()
			/* the watchdog, or Check(): the deadline passed */
			:: rem[me] == 0 ->
				printf("P%d: deadline passed, lease over\n", me);
				TOIDLE
			fi
		}
#ifdef BUG_STAMP_AFTER
	:: atomic { pc[me] == RN_RET ->
			rem[me] = HOLDFOR(me); pc[me] = HOLD;
			printf("P%d renew: returns, stamps: valid for %d ticks\n", me, rem[me]);
			CHECK_ME
		}
#endif
#ifdef INDEX
	/* the indexer, while it holds: open the index (a fresh read of
	 * meta.json after the grant) */
	:: atomic { pc[me] == HOLD && ip[me] == I_PEND && tries[me] < MAXTRY ->
			over[me] = mver; odocs[me] = mdocs; ip[me] = I_OPEN;
			printf("P%d opens the index: version %d, docs %d\n", me, mver, mdocs)
		}
	/* write the document, then commit: the fence and the rename */
	:: atomic { pc[me] == HOLD && ip[me] == I_OPEN ->
			if
#ifdef PUBLISH_WINDOW
			:: FENCE_OK -> ip[me] = I_CHKD; printf("P%d fence passes; the rename is next\n", me)
#else
			:: FENCE_OK -> PUBLISH
#endif
			:: else -> REFUSE
			fi
		}
#ifdef PUBLISH_WINDOW
	:: atomic { ip[me] == I_CHKD -> PUBLISH }
#endif
#endif
	od
}

/* ------------------------------------------------------------------ */
/* Time: a tick ages every clock by one (equal rates; offsets do not   */
/* enter the protocol).  Declared after Proc so that pids 0..NP-1 are  */
/* the processes.  VMPAUSE: a tick may leave one holder's clock where  */
/* it was (its VM is paused; it is excused from ME from then on).      */
/* ------------------------------------------------------------------ */
#define TICK(p) \
	if :: STAMPED(p) && sage[p] < HOLDFOR(p) -> sage[p]++ :: else -> skip fi; \
	if :: rem[p] > 0 -> rem[p]-- :: else -> skip fi

#ifdef PERKEY
#define AGEKEYS \
		ti = NS + 1; \
		do \
		:: ti < NKEYS -> \
			if \
			:: age[ti] < WAITMAX && HAS(gensEver, ti / (NS + 1)) && \
			   (ti % (NS + 1) == 0 || HAS(slotsEver[ti / (NS + 1)], ti % (NS + 1))) -> age[ti]++ \
			:: else -> skip \
			fi; \
			ti++ \
		:: else -> break \
		od; \
		ti = 0
#else
#define AGEKEYS if :: cage < WAITMAX -> cage++ :: else -> skip fi
#endif

#ifdef VMPAUSE
#define STOPPABLE(p) (STAMPED(p) || HOLDING(p))
#define TICK_BUT(p, q) if :: (p) == (q) -> EXCUSE(p) :: else -> TICK(p) fi
#endif

active proctype Clock()
{
end_clock:
	do
	:: d_step {
		AGEKEYS;
		TICK(0); TICK(1);
#if NPROC > 2
		TICK(2);
#endif
		printf("tick\n")
	   }
#ifdef VMPAUSE
	:: d_step {
		STOPPABLE(0) ->
		AGEKEYS;
		TICK_BUT(0, 0); TICK_BUT(1, 0);
#if NPROC > 2
		TICK_BUT(2, 0);
#endif
		printf("tick (P0's clock stands still)\n")
	   }
	:: d_step {
		STOPPABLE(1) ->
		AGEKEYS;
		TICK_BUT(0, 1); TICK_BUT(1, 1);
#if NPROC > 2
		TICK_BUT(2, 1);
#endif
		printf("tick (P1's clock stands still)\n")
	   }
#endif
	od
}
