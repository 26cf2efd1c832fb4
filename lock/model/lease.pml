/*
 * lease.pml -- the tguard lease protocol (lock/*.go, docs/PROTOCOL.md) in
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
 *   TOK  every grant's token is strictly greater than every earlier grant's
 *        token (so no token is granted twice).
 *
 * The default is the Go code as it is (lock/*.go at aaedb63): a process
 * never removes a name it made; a grant that its listing cannot prove newest
 * is given back by releasing it (slot 1 + "released"); a renewal that
 * returns after the deadline ends the lease.
 *
 * Switches (spin -DNAME):
 *   the code before aaedb63 (1cc666d), whose bugs the model found
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
 *   bounds
 *     NPROC (2 or 3 processes), NG (generations, 1..4), NS (slots per
 *     generation, 1..5), LEASE and MARGIN (clock ticks)
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
#ifndef LEASE
#define LEASE 4
#endif
#ifndef MARGIN
#define MARGIN 1
#endif
#ifndef MAXCRASH
#define MAXCRASH 1
#endif

#define HOLDFOR (LEASE - MARGIN)   /* holder: deadline = stamp + lease - margin  */
#define WAITFOR (LEASE + MARGIN)   /* waiter: ends after lease + margin unchanged */

/* processes 0 and 1 share a host; process 2 is on another host */
#define HOST(p) ((p) == 2 -> 1 : 0)

/* ------------------------------------------------------------------ */
/* The share, one bit per name:                                        */
/*   gens      bit g: folder .tguard-lease/<g>                         */
/*   slots[g]  bit s: folder <g>/<s>                                   */
/* and what stale readings may show, every name that ever existed:     */
/*   gensEver, slotsEver[g]                                            */
/* The markers and owner.json files are below, with the clocks: with   */
/* PERKEY every generation's, with one clock the highest one's.        */
/* ------------------------------------------------------------------ */
byte gens, gensEver;
byte slots[NG+1], slotsEver[NG+1];
byte lastTok;        /* the highest token granted so far */

/* Time of the keys a waiter watches.  A key (g,s) is the name <g> for
 * s = 0, <g>/<s> otherwise; a waiter's watch of it starts no earlier than
 * the moment it first appeared.
 *
 * PERKEY (implied by OLD_RMDIR, whose rmdirs can make a key newest again):
 * age[key] counts the ticks since the key first appeared, capped at
 * WAITFOR, for every key.
 *
 * Otherwise: one clock.  cur is the key a fresh reading shows,
 * (highest generation, its highest slot), a function of the names, so it
 * adds no states; cage counts the ticks since cur first appeared.  Keys
 * that are not current may be ended at any time (see EXPIRED).  This is
 * exact only if a key never becomes current again once superseded: the
 * model asserts that (KEYS). */
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
byte age[NKEYS];
byte ti;               /* loop counter of the clock, 0 between steps */
#define UPDCUR(first) skip
#else
byte cur, cage;
/* With one clock only the highest generation's marker and owner.json
 * matter (any other key may be ended at any time, and any lower
 * generation may be read as ended, see READABLE_FREE): mended, mowner. */
bit  mended;
byte mowner;
#define UPDCUR(first) \
	if \
	:: CURKEY != cur -> \
		assert(first); /* KEYS */ \
		if :: cur / (NS + 1) != MAXBIT(gens) -> mended = 0; mowner = 0 :: else -> skip fi; \
		cur = CURKEY; cage = 0 \
	:: else -> skip \
	fi
#endif

#define BIT(i)      (1 << (i))
#define HAS(m,i)    ((((m) >> (i)) & 1) == 1)
#define MAXBIT(m)   (((m) & 32) -> 5 : (((m) & 16) -> 4 : (((m) & 8) -> 3 : (((m) & 4) -> 2 : (((m) & 2) -> 1 : 0)))))

#define MKGEN(g)       gens = gens | BIT(g); UPDCUR(!HAS(gensEver, g)); gensEver = gensEver | BIT(g)
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
#define GR_MK    3  /* grant(): mkdir <tok>                                 */
#define GR_LS    4  /* grant(): list; then rmdir, or owner.json             */
#define GR_GC    5  /* grant(): RemoveAll below tok-1; Valid()      holds   */
#define HOLD     6  /* renewLoop, watchdog, Release                 holds   */
#define RN_RET   7  /* BUG_STAMP_AFTER: renewal landed, not yet returned    */
#define DEAD     8  /* crashed                                              */
#define STOP     9  /* a waiter at the bounds of the model: stops           */

byte pc[NPROC];
byte tok[NPROC];    /* the generation being ended, granted or held          */
byte k[NPROC];      /* end(): the slot read; holder: its newest slot        */
byte rem[NPROC];    /* holder: ticks before its deadline (0: passed)        */
byte sage[NPROC];   /* ticks since attempt()'s stamp, until the grant       */

#define me _pid
#define STAMPED(p) (pc[p] >= END_MK && pc[p] <= GR_LS)
#define VALIDP(p)  (((pc[p] == GR_GC || pc[p] == HOLD || pc[p] == RN_RET) && rem[p] > 0) -> 1 : 0)
#define DEADP(p)   ((pc[p] == DEAD) -> 1 : 0)
#if NPROC == 2
#define NVALID (VALIDP(0) + VALIDP(1))
#define NDEAD  (DEADP(0) + DEADP(1))
#else
#define NVALID (VALIDP(0) + VALIDP(1) + VALIDP(2))
#define NDEAD  (DEADP(0) + DEADP(1) + DEADP(2))
#endif

/* back to attempt(), after errRaced or any other error or a lease's end */
#define TOIDLE  pc[me] = IDLE; tok[me] = 0; k[me] = 0; rem[me] = 0; sage[me] = 0

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
/* lease + margin apart, both showed (G,k) and none between showed     */
/* anything else; the first is no earlier than the moment (G,k) first  */
/* appeared.  The model lets an idle process end a key it can read     */
/* once the key first appeared lease + margin ago or more: every       */
/* ending the code can do, without a watch per waiter.  With one clock */
/* (not PERKEY) a key that is not current may be ended at any time:    */
/* more endings than the code can do (the protocol relies on mkdir and */
/* the listing, not on time, to make ending a superseded key harmless) */
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
#ifdef BUG_NO_WAIT
#define EXPIRED(g,s) (1)
#else
#ifdef PERKEY
#define EXPIRED(g,s) (age[KEY(g,s)] >= WAITFOR)
#else
#define EXPIRED(g,s) (KEY(g,s) != cur || cage >= WAITFOR)
#endif
#endif
#define ENDABLE(g,s) ((g) <= NG && (s) <= NS && READABLE_HELD(g,s) && (EXPIRED(g,s) || PROVABLY_DEAD(g)))
#define GRANTABLE(g) ((g) <= NG && READABLE_FREE(g))

/* the outcomes of one attempt ("held" is no step at all) */
#define GRANT_OPT(g) \
	:: GRANTABLE(g) -> printf("P%d reads %d free or ended: grants %d\n", me, g, (g) + 1); \
		tok[me] = (g) + 1; pc[me] = GR_MK
#define END_OPT(g,s) \
	:: ENDABLE(g,s) -> printf("P%d reads (%d,%d): expired or holder dead, ends it\n", me, g, s); \
		tok[me] = g; k[me] = s; pc[me] = END_MK
#define END_OPTS(g) END_OPT(g,0) END_OPT(g,1) END_OPT(g,2) END_OPT(g,3) END_OPT(g,4) END_OPT(g,5)

/* end(): mkdir <G>/<k+1> */
inline end_mkdir() {
	if
	:: k[me] + 1 > NS -> TOIDLE; pc[me] = STOP
	:: k[me] + 1 <= NS && CANMKSLOT(tok[me], k[me] + 1) ->
		printf("P%d end: mkdir %d/%d ok\n", me, tok[me], k[me] + 1);
		MKSLOT(tok[me], k[me] + 1); pc[me] = END_LS
	:: k[me] + 1 <= NS && !CANMKSLOT(tok[me], k[me] + 1) ->
		printf("P%d end: mkdir %d/%d fails: raced\n", me, tok[me], k[me] + 1);
		TOIDLE
#ifndef NO_IO_ERRORS
	:: k[me] + 1 <= NS && CANMKSLOT(tok[me], k[me] + 1) ->
		printf("P%d end: mkdir %d/%d lands, reports an I/O error\n", me, tok[me], k[me] + 1);
		MKSLOT(tok[me], k[me] + 1); TOIDLE
#endif
	fi
}

/* grant(): mkdir <G> */
inline grant_mkdir() {
	if
	:: tok[me] > NG -> TOIDLE; pc[me] = STOP
	:: tok[me] <= NG && !HAS(gens, tok[me]) ->
		printf("P%d grant: mkdir %d ok\n", me, tok[me]);
		MKGEN(tok[me]); pc[me] = GR_LS
	:: tok[me] <= NG && HAS(gens, tok[me]) ->
		printf("P%d grant: mkdir %d fails: raced\n", me, tok[me]);
		TOIDLE
#ifndef NO_IO_ERRORS
	:: tok[me] <= NG && !HAS(gens, tok[me]) ->
		printf("P%d grant: mkdir %d lands, reports an I/O error\n", me, tok[me]);
		MKGEN(tok[me]); TOIDLE
#endif
#ifdef BUG_EXCL_CREATE
	:: tok[me] <= NG && HAS(gens, tok[me]) ->
		printf("P%d grant: mkdir %d wins although it exists\n", me, tok[me]);
		pc[me] = GR_LS
#endif
	fi
}

/* fileGrant.Release: mkdir <G>/<k+1>, then "released"; the lease ends */
inline release() {
	if
	:: k[me] + 1 <= NS && CANMKSLOT(tok[me], k[me] + 1) ->
		printf("P%d release: mkdir %d/%d\n", me, tok[me], k[me] + 1);
		MKSLOT(tok[me], k[me] + 1); MARK(tok[me], k[me] + 1)
	:: k[me] + 1 <= NS && !CANMKSLOT(tok[me], k[me] + 1) -> skip   /* had been lost */
#ifndef NO_IO_ERRORS
	:: true -> skip                                                 /* I/O error */
	:: k[me] + 1 <= NS && CANMKSLOT(tok[me], k[me] + 1) ->
		MKSLOT(tok[me], k[me] + 1)                                  /* landed, error */
#endif
	fi;
	TOIDLE
}

active [NPROC] proctype Proc()
{
	byte holders;   /* valid holders, counted for ME; 0 between steps */
end_proc:
	do
	/* a crash, at any step: the process stops, its names stay */
	:: pc[me] != DEAD && pc[me] != STOP && NDEAD < MAXCRASH ->
		d_step {
			printf("P%d CRASHES\n", me);
			TOIDLE; pc[me] = DEAD
		}

	/* Locker.attempt: stamp := monoNow(); fileBackend.Attempt: readView,
	 * then grant(G+1), or end(G,k) then grant(G+1) */
	:: pc[me] == IDLE ->
		atomic {
			sage[me] = 0;
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
#ifdef FRESH_READS
	:: pc[me] == END_MK -> atomic { end_mkdir() }
#endif

	/* end(): list <G>: our slot must be the newest.  Then write the
	 * marker and go on to grant(G+1), or os.Remove(slot) and fail. */
	:: pc[me] == END_LS ->
		atomic {
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
				tok[me] = tok[me] + 1; k[me] = 0; pc[me] = GR_MK
			fi
		}

	:: pc[me] == GR_MK -> atomic { grant_mkdir() }

	/* grant(): list the lease folder: ours must be the newest generation.
	 * Then fsync + owner.json (if either fails: release), or
	 * os.Remove(genDir) and fail. */
	:: pc[me] == GR_LS ->
		atomic {
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
#ifdef BUG_STAMP_AFTER
				rem[me] = HOLDFOR;
#else
				rem[me] = HOLDFOR - sage[me];
#endif
				printf("P%d GRANTED token %d, valid for %d ticks\n", me, tok[me], rem[me]);
				assert(tok[me] > lastTok);          /* TOK */
				lastTok = tok[me];
				sage[me] = 0; k[me] = 0;
				if
				:: HAS(gens, tok[me]) ->
					SETOWNER(tok[me]);
					pc[me] = GR_GC;
					holders = NVALID; assert(holders <= 1); holders = 0             /* ME */
				:: true ->
					printf("P%d grant: fsync or owner.json fails: releases\n", me);
					release()
				fi
			fi
		}

	/* grant(): RemoveAll generations below tok-1; attempt(): Valid() */
	:: pc[me] == GR_GC ->
		atomic {
			if :: 1 + 1 < tok[me] && HAS(gens, 1) -> RMGEN(1); printf("P%d grant: RemoveAll 1\n", me) :: else -> skip fi;
			if :: 2 + 1 < tok[me] && HAS(gens, 2) -> RMGEN(2); printf("P%d grant: RemoveAll 2\n", me) :: else -> skip fi;
			if
			:: rem[me] > 0 -> pc[me] = HOLD
			:: else -> release()
			fi
		}

	/* the holder */
	:: pc[me] == HOLD ->
		atomic {
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
					rem[me] = HOLDFOR;
					printf("P%d renew: valid for %d ticks\n", me, rem[me]);
					holders = NVALID; assert(holders <= 1); holders = 0             /* ME */
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
	:: pc[me] == RN_RET ->
		atomic {
			rem[me] = HOLDFOR; pc[me] = HOLD;
			printf("P%d renew: returns, stamps: valid for %d ticks\n", me, rem[me]);
			holders = NVALID; assert(holders <= 1); holders = 0
		}
#endif
	od
}

/* ------------------------------------------------------------------ */
/* Time: a tick ages every clock by one (equal rates; offsets do not   */
/* enter the protocol).  Declared after Proc so that pids 0..NPROC-1   */
/* are the processes.                                                  */
/* ------------------------------------------------------------------ */
#define TICK(p) \
	if :: STAMPED(p) && sage[p] < HOLDFOR -> sage[p]++ :: else -> skip fi; \
	if :: rem[p] > 0 -> rem[p]-- :: else -> skip fi

active proctype Clock()
{
end_clock:
	do
	:: d_step {
#ifdef PERKEY
		ti = NS + 1;
		do
		:: ti < NKEYS ->
			if
			:: age[ti] < WAITFOR && HAS(gensEver, ti / (NS + 1)) &&
			   (ti % (NS + 1) == 0 || HAS(slotsEver[ti / (NS + 1)], ti % (NS + 1))) -> age[ti]++
			:: else -> skip
			fi;
			ti++
		:: else -> break
		od;
		ti = 0;
#else
		if :: cage < WAITFOR -> cage++ :: else -> skip fi;
#endif
		TICK(0); TICK(1);
#if NPROC > 2
		TICK(2);
#endif
		printf("tick\n")
	   }
	od
}
