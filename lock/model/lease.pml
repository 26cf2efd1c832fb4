/*
 * lease.pml -- the tguard lease protocol (lock/*.go, docs/PROTOCOL.md) in
 * Promela, for spin 6.  README.md in this folder says what is modelled, what
 * is abstracted away, the bounds, the results and how to run it
 * (tests/scripts/spin-check.sh runs every check).
 *
 * Properties, as assertions:
 *   ME   never two processes that each hold a valid lease.  A process holds
 *        from its grant (the mkdir of <G> and the listing after it) until its
 *        deadline passes on its own clock, a renewal proves the lease lost,
 *        or its release mkdir.  Checked at every step where a process gains
 *        validity (grant; a renewal that moves its deadline): the only steps
 *        where the number of valid holders can grow.
 *   TOK  every grant's token is strictly greater than every earlier grant's
 *        token; so no token is granted twice.
 *
 * Switches (spin -DNAME):
 *   protocol: the default is the Go code as written (lock/filebackend.go,
 *   lease.go, lock.go at commit 1cc666d)
 *     FIX_KEEP        never rmdir a name this process made by mkdir and
 *                     could not prove newest: grant() gives the generation
 *                     back as Release does (slot 1 + "released"), end()
 *                     leaves its slot.  The fix proposed in README.md.
 *     FIX_NO_REVIVE   a renewal that returns after the deadline has passed
 *                     ends the lease instead of moving the deadline.
 *   faults (all on by default)
 *     NO_LIST_ERRORS  the listing after a mkdir never fails
 *     NO_IO_ERRORS    renewal and release mkdirs never fail
 *     FRESH_READS     every reading is of the present state
 *     MAXCRASH=n      at most n crashes (default 1)
 *   controls (each must make spin find a violation)
 *     BUG_NO_VERIFY   no listing after the grant or end mkdir
 *     BUG_NO_WAIT     a waiter ends a generation without waiting
 *     BUG_EXCL_CREATE the grant primitive is not exclusive (like O_EXCL on
 *                     the share): a grant may win although the name exists
 *     BUG_STAMP_AFTER the holder reads its clock after its mkdir returns
 *   bounds
 *     NPROC (2 or 3 processes), NG (generations, 2..4), NS (slots per
 *     generation, 2..5), LEASE and MARGIN (in clock ticks)
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
/* The share.  One bit per name:                                       */
/*   gens     bit g  folder .tguard-lease/<g>                          */
/*   slots[g] bit k  folder <g>/<k>                                    */
/* What a stale reading may show (every name that ever existed):       */
/*   gensEver, slotsEver[g]                                            */
/*   ended    bit g  a marker was written in some slot of <g>: a       */
/*                   reading may show <g> ended from then on (the      */
/*                   decision on a marker ignores the slot number)     */
/*   owner[g] owner.json of <g>, written once (owner pid + 1)          */
/* ------------------------------------------------------------------ */
byte gens, gensEver, ended;
byte slots[NG+1], slotsEver[NG+1];
byte owner[NG+1];
byte lastTok;        /* the highest token granted so far */

/* The key a fresh reading shows: (highest generation, its highest slot).
 * cur is that key (a function of the names above, so it adds no states);
 * cage counts the ticks since cur first appeared, capped at WAITFOR.  A key
 * that becomes current again after its successor was removed (only the
 * code's rmdir paths do that) counts as old: cage = WAITFOR. */
#define KEY(g,s)   ((g) * (NS + 1) + (s))
#define CURKEY     KEY(MAXBIT(gens), MAXBIT(slots[MAXBIT(gens)]))
byte cur, cage;
#define UPDCUR(first) if :: CURKEY != cur -> cur = CURKEY; cage = ((first) -> 0 : WAITFOR) :: else -> skip fi

#define BIT(i)      (1 << (i))
#define HAS(m,i)    ((((m) >> (i)) & 1) == 1)
#define MAXBIT(m)   (((m) & 32) -> 5 : (((m) & 16) -> 4 : (((m) & 8) -> 3 : (((m) & 4) -> 2 : (((m) & 2) -> 1 : 0)))))

#define MKGEN(g)       gens = gens | BIT(g); UPDCUR(!HAS(gensEver, g)); gensEver = gensEver | BIT(g)
#define MKSLOT(g,s)    slots[g] = slots[g] | BIT(s); UPDCUR(!HAS(slotsEver[g], s)); slotsEver[g] = slotsEver[g] | BIT(s)
#define RMSLOT(g,s)    slots[g] = slots[g] & ~BIT(s); UPDCUR(0)
#define MARK(g,s)      if :: HAS(gens, g) && HAS(slots[g], s) -> ended = ended | BIT(g) :: else -> skip fi
/* mkdir <g>/<s> succeeds iff <g> exists and <s> does not */
#define CANMKSLOT(g,s) (HAS(gens, g) && !HAS(slots[g], s))
/* os.RemoveAll(<g>), one step */
#define RMGEN(g)       gens = gens & ~BIT(g); slots[g] = 0; UPDCUR(0)

/* ------------------------------------------------------------------ */
/* Processes: one Locker each, global arrays so that the clock can age */
/* them.  Holding states are GR_REC..RL_MK.                            */
/* ------------------------------------------------------------------ */
#define IDLE      0  /* attempt(): stamp, readView, decide                 */
#define END_MK    1  /* end(): mkdir <tok>/<k+1>                            */
#define END_LS    2  /* end(): list <tok> (fresh after our own mkdir)       */
#define END_RM    3  /* end(): os.Remove(slot)                              */
#define END_MARK  4  /* end(): write "expired"                              */
#define GR_MK     5  /* grant(): mkdir <tok>                                */
#define GR_LS     6  /* grant(): list the lease folder (fresh)              */
#define GR_RM     7  /* grant(): os.Remove(genDir)                          */
#define GR_REC    8  /* grant(): fsync, owner.json                 holds:   */
#define GR_GC     9  /* grant(): RemoveAll generations below tok-1          */
#define HOLD     10  /* renewLoop / watchdog / Release                      */
#define RN_MK    11  /* Renew: mkdir <tok>/<k+1>, stamped                   */
#define RN_GC    12  /* Renew: os.Remove(<tok>/<k-2>), then extend          */
#define RL_MK    13  /* Release: mkdir <tok>/<k+1>            ...until here */
#define RL_MARK  14  /* Release: write "released"                           */
#define GV_MK    15  /* FIX_KEEP: give the generation back: mkdir <tok>/1   */
#define GV_MARK  16  /* FIX_KEEP: ... write "released"                      */
#define DEAD     17  /* crashed                                             */
#define STOP     18  /* a waiter at the model's bounds: stops               */

byte pc[NPROC];
byte tok[NPROC];      /* the generation being ended, granted or held        */
byte k[NPROC];        /* end(): the slot read; holder: its newest slot      */
byte rem[NPROC];      /* holder: ticks before its deadline (0: passed)      */
byte sage[NPROC];     /* ticks since the stamp of a grant or renewal        */
bit  lost[NPROC];     /* the watchdog ended the lease during a renewal      */

#define me _pid

/* a stamp runs from attempt()'s stamp until the grant is proven, and from
 * a renewal's stamp until it extends the deadline */
#define STAMPED(p) ((pc[p] >= END_MK && pc[p] <= GR_LS && pc[p] != END_RM) || pc[p] == RN_MK || pc[p] == RN_GC)

#define VALIDP(p)  ((pc[p] >= GR_REC && pc[p] <= RL_MK && !lost[p] && rem[p] > 0) -> 1 : 0)
#define DEADP(p)   ((pc[p] == DEAD) -> 1 : 0)
#if NPROC == 2
#define NVALID (VALIDP(0) + VALIDP(1))
#define NDEAD  (DEADP(0) + DEADP(1))
#else
#define NVALID (VALIDP(0) + VALIDP(1) + VALIDP(2))
#define NDEAD  (DEADP(0) + DEADP(1) + DEADP(2))
#endif

/* back to attempt() (after errRaced or any other error) */
#define TOIDLE  pc[me] = IDLE; tok[me] = 0; k[me] = 0; rem[me] = 0; sage[me] = 0; lost[me] = 0

/* ------------------------------------------------------------------ */
/* readView and the waiter's watch.                                    */
/*                                                                     */
/* Stale readings (default): readView lists the lease folder, then the */
/* generation, then looks for a marker and reads owner.json; each may  */
/* be stale on its own, so a reading may show any generation that ever */
/* existed, any slot that ever existed in it, "ended" once a marker    */
/* was ever written in it, and owner.json or nothing.                  */
/* FRESH_READS: a reading shows the present state.                     */
/*                                                                     */
/* The watch: the code ends (G,k) when two of its readings, at least   */
/* lease + margin apart, both showed (G,k) and none in between showed  */
/* anything else; the first is no earlier than the moment (G,k) first  */
/* appeared.  The model lets any idle process end the current key once */
/* cage >= lease + margin, and any other key it can read at any time   */
/* (the protocol relies on mkdir and the listing, not on time, to make */
/* ending a superseded key harmless).  This allows every ending the    */
/* code can do, with one clock instead of one watch per waiter.        */
/* ------------------------------------------------------------------ */
#ifdef FRESH_READS
#define READABLE_FREE(g) ((g) == MAXBIT(gens) && ((g) == 0 || HAS(ended, g)))
#define READABLE_HELD(g,s) ((g) == MAXBIT(gens) && (s) == MAXBIT(slots[g]) && !HAS(ended, g))
#define OWNER_SEEN(g) (owner[g])
#else
#define READABLE_FREE(g) ((g) == 0 || HAS(ended, g))
#define READABLE_HELD(g,s) (HAS(gensEver, g) && ((s) == 0 || HAS(slotsEver[g], s)))
#define OWNER_SEEN(g) (owner[g])   /* or unreadable: then the waiter waits */
#endif
/* judgeHolder == fateDead: owner.json names a crashed process of this host */
#define PROVABLY_DEAD(g) (OWNER_SEEN(g) != 0 && pc[OWNER_SEEN(g) - 1] == DEAD && HOST(OWNER_SEEN(g) - 1) == HOST(me))
#ifdef BUG_NO_WAIT
#define EXPIRED(g,s) (1)
#else
#define EXPIRED(g,s) (KEY(g,s) != cur || cage >= WAITFOR)
#endif
#define ENDABLE(g,s) ((g) <= NG && (s) <= NS && READABLE_HELD(g,s) && (EXPIRED(g,s) || PROVABLY_DEAD(g)))
#define GRANTABLE(g) ((g) <= NG && READABLE_FREE(g))

/* the options of one attempt */
#define GRANT_OPT(g) \
	:: GRANTABLE(g) -> printf("P%d reads %d free or ended: grants %d\n", me, g, (g) + 1); \
		tok[me] = (g) + 1; pc[me] = GR_MK
#define END_OPT(g,s) \
	:: ENDABLE(g,s) -> printf("P%d reads (%d,%d): expired or holder dead: ends it\n", me, g, s); \
		tok[me] = g; k[me] = s; pc[me] = END_MK
#define END_OPTS(g) END_OPT(g,0) END_OPT(g,1) END_OPT(g,2) END_OPT(g,3) END_OPT(g,4) END_OPT(g,5)

/* end(): mkdir <G>/<k+1> */
inline end_mkdir() {
			if
			:: k[me] + 1 > NS -> TOIDLE; pc[me] = STOP
			:: CANMKSLOT(tok[me], k[me] + 1) ->
				printf("P%d end: mkdir %d/%d ok\n", me, tok[me], k[me] + 1);
				MKSLOT(tok[me], k[me] + 1); pc[me] = END_LS
			:: k[me] + 1 <= NS && !CANMKSLOT(tok[me], k[me] + 1) ->
				printf("P%d end: mkdir %d/%d fails: raced\n", me, tok[me], k[me] + 1);
				TOIDLE
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
#ifdef BUG_EXCL_CREATE
			:: tok[me] <= NG && HAS(gens, tok[me]) ->
				printf("P%d grant: mkdir %d wins although it exists\n", me, tok[me]);
				pc[me] = GR_LS
#endif
			fi
		}

active [NPROC] proctype Proc()
{
end_proc:
	do
	/* a crash, at any step: the process stops, its names stay */
	:: pc[me] != DEAD && pc[me] != STOP && NDEAD < MAXCRASH ->
		d_step {
			printf("P%d CRASHES\n", me);
			TOIDLE; pc[me] = DEAD
		}

	/* Locker.attempt: stamp := monoNow(); fileBackend.Attempt: readView,
	 * then grant(G+1), or end(G,k) and grant(G+1); "held" is no step */
	:: pc[me] == IDLE ->
		atomic {
			sage[me] = 0;
			if
			GRANT_OPT(0) GRANT_OPT(1) GRANT_OPT(2) GRANT_OPT(3) GRANT_OPT(4)
			END_OPTS(1) END_OPTS(2) END_OPTS(3) END_OPTS(4)
			fi;
#ifndef FRESH_READS
			/* with stale readings, a reading followed later by the mkdir is
			 * the same as a stale reading at the mkdir, with the latest
			 * stamp: one step */
			if
			:: pc[me] == END_MK -> end_mkdir()
			:: pc[me] == GR_MK -> grant_mkdir()
			fi
#endif
		}

#ifdef FRESH_READS
	:: pc[me] == END_MK -> atomic { end_mkdir() }
	:: pc[me] == GR_MK -> atomic { grant_mkdir() }
#endif

	/* end(): list <G>: our slot must be the newest */
	:: pc[me] == END_LS ->
		atomic {
			if
#ifdef BUG_NO_VERIFY
			:: true -> pc[me] = END_MARK
#else
#ifndef NO_LIST_ERRORS
			:: true ->
				printf("P%d end: listing %d fails\n", me, tok[me]);
				pc[me] = END_RM
#endif
			:: !HAS(gens, tok[me]) ->
				pc[me] = END_RM
			:: HAS(gens, tok[me]) && MAXBIT(slots[tok[me]]) != k[me] + 1 ->
				printf("P%d end: listing %d shows slot %d\n", me, tok[me], MAXBIT(slots[tok[me]]));
				pc[me] = END_RM
			:: HAS(gens, tok[me]) && MAXBIT(slots[tok[me]]) == k[me] + 1 ->
				pc[me] = END_MARK
#endif
			fi
		}

	/* end(): os.Remove(slot) */
	:: pc[me] == END_RM ->
		atomic {
#ifndef FIX_KEEP
			if
			:: HAS(gens, tok[me]) && HAS(slots[tok[me]], k[me] + 1) ->
				printf("P%d end: rmdir %d/%d\n", me, tok[me], k[me] + 1);
				RMSLOT(tok[me], k[me] + 1)
			:: else -> skip
			fi;
#endif
			TOIDLE
		}

	/* end(): the marker (a failed write is only logged); then grant(G+1) */
	:: pc[me] == END_MARK ->
		atomic {
			if
			:: true -> MARK(tok[me], k[me] + 1);
				printf("P%d end: writes %d/%d/expired\n", me, tok[me], k[me] + 1)
			:: true -> printf("P%d end: the marker write fails\n", me)
			fi;
			tok[me] = tok[me] + 1; k[me] = 0; pc[me] = GR_MK
		}

	/* grant(): list the lease folder: ours must be the newest generation */
	:: pc[me] == GR_LS ->
		atomic {
			if
#ifndef BUG_NO_VERIFY
#ifndef NO_LIST_ERRORS
			:: true ->
				printf("P%d grant: listing fails\n", me);
				pc[me] = GR_RM
#endif
			:: MAXBIT(gens) != tok[me] ->
				printf("P%d grant: listing shows %d\n", me, MAXBIT(gens));
				pc[me] = GR_RM
			:: MAXBIT(gens) == tok[me] ->
#else
			:: true ->
#endif
				assert(tok[me] > lastTok);   /* TOK */
				lastTok = tok[me];
				k[me] = 0; lost[me] = 0;
#ifdef BUG_STAMP_AFTER
				rem[me] = HOLDFOR;
#else
				rem[me] = HOLDFOR - sage[me];
#endif
				sage[me] = 0;
				pc[me] = GR_REC;
				printf("P%d GRANTED token %d, valid for %d ticks\n", me, tok[me], rem[me]);
				assert(NVALID <= 1)          /* ME */
			fi
		}

	/* grant(): os.Remove(genDir) */
	:: pc[me] == GR_RM ->
		atomic {
#ifdef FIX_KEEP
			pc[me] = GV_MK
#else
			if
			:: HAS(gens, tok[me]) && slots[tok[me]] == 0 ->
				printf("P%d grant: rmdir %d\n", me, tok[me]);
				gens = gens & ~BIT(tok[me])
			:: else -> skip   /* not empty: rmdir fails */
			fi;
			TOIDLE
#endif
		}

	/* FIX_KEEP: give the generation back as Release does */
	:: pc[me] == GV_MK ->
		atomic {
			if
			:: CANMKSLOT(tok[me], 1) ->
				printf("P%d grant: gives %d back: mkdir %d/1\n", me, tok[me], tok[me]);
				MKSLOT(tok[me], 1); pc[me] = GV_MARK
			:: else -> TOIDLE
			fi
		}
	:: pc[me] == GV_MARK ->
		atomic {
			if
			:: true -> MARK(tok[me], 1)
			:: true -> skip
			fi;
			TOIDLE
		}

	/* grant(): fsync + owner.json; if either fails, release at once */
	:: pc[me] == GR_REC ->
		atomic {
			if
			:: HAS(gens, tok[me]) ->
				printf("P%d grant: writes %d/owner.json\n", me, tok[me]);
				owner[tok[me]] = me + 1;
				pc[me] = GR_GC
			:: true ->
				printf("P%d grant: owner.json fails: releases\n", me);
				pc[me] = RL_MK
			fi
		}

	/* grant(): RemoveAll generations below tok-1; attempt(): Valid() */
	:: pc[me] == GR_GC ->
		atomic {
			if :: 1 + 1 < tok[me] && HAS(gens, 1) -> RMGEN(1); printf("P%d grant: removes 1\n", me) :: else -> skip fi;
			if :: 2 + 1 < tok[me] && HAS(gens, 2) -> RMGEN(2); printf("P%d grant: removes 2\n", me) :: else -> skip fi;
			if
			:: rem[me] > 0 -> pc[me] = HOLD
			:: else -> pc[me] = RL_MK
			fi
		}

	/* the holder: renew (stamp first), release, or the deadline passes */
	:: pc[me] == HOLD ->
		atomic {
			if
			:: k[me] + 1 <= NS ->
				printf("P%d renew: stamp, %d ticks left\n", me, rem[me]);
				sage[me] = 0; pc[me] = RN_MK
			:: k[me] + 1 <= NS ->
				pc[me] = RL_MK
			:: rem[me] == 0 ->
				printf("P%d: deadline passed, lease over\n", me);
				TOIDLE
			fi
		}

	/* the watchdog fires while a renewal is under way */
	:: (pc[me] == RN_MK || pc[me] == RN_GC) && rem[me] == 0 && !lost[me] ->
		printf("P%d: watchdog ends the lease\n", me);
		lost[me] = 1

	/* Renew: mkdir <G>/<k+1> */
	:: pc[me] == RN_MK ->
		atomic {
			if
			:: !CANMKSLOT(tok[me], k[me] + 1) ->
				printf("P%d renew: mkdir %d/%d fails: LOST\n", me, tok[me], k[me] + 1);
				TOIDLE
			:: CANMKSLOT(tok[me], k[me] + 1) ->
				printf("P%d renew: mkdir %d/%d ok\n", me, tok[me], k[me] + 1);
				MKSLOT(tok[me], k[me] + 1); k[me]++; pc[me] = RN_GC
#ifndef NO_IO_ERRORS
			:: true ->
				printf("P%d renew: mkdir %d/%d: I/O error\n", me, tok[me], k[me] + 1);
				sage[me] = 0;
				if :: lost[me] -> TOIDLE :: else -> pc[me] = HOLD fi
			:: CANMKSLOT(tok[me], k[me] + 1) ->
				printf("P%d renew: mkdir %d/%d lands, reports an I/O error\n", me, tok[me], k[me] + 1);
				MKSLOT(tok[me], k[me] + 1); sage[me] = 0;
				if :: lost[me] -> TOIDLE :: else -> pc[me] = HOLD fi
#endif
			fi
		}

	/* Renew: os.Remove(slot k-2); renewLoop: extend(stamp) */
	:: pc[me] == RN_GC ->
		atomic {
			if
			:: k[me] > 2 && HAS(gens, tok[me]) && HAS(slots[tok[me]], k[me] - 2) ->
				printf("P%d renew: rmdir %d/%d\n", me, tok[me], k[me] - 2);
				RMSLOT(tok[me], k[me] - 2)
			:: else -> skip
			fi;
			if
			:: lost[me] -> TOIDLE
#ifdef FIX_NO_REVIVE
			:: !lost[me] && rem[me] == 0 ->
				printf("P%d renew: deadline passed before it returned: over\n", me);
				TOIDLE
#endif
			:: else ->
#ifdef BUG_STAMP_AFTER
				rem[me] = HOLDFOR;
#else
				if
				:: HOLDFOR - sage[me] > rem[me] -> rem[me] = HOLDFOR - sage[me]
				:: else -> skip
				fi;
#endif
				sage[me] = 0; pc[me] = HOLD;
				printf("P%d renew: valid for %d ticks\n", me, rem[me]);
				assert(NVALID <= 1)          /* ME */
			fi
		}

	/* Release: mkdir <G>/<k+1>: the lease ends here */
	:: pc[me] == RL_MK ->
		atomic {
			if
			:: !CANMKSLOT(tok[me], k[me] + 1) -> TOIDLE   /* had been lost */
			:: CANMKSLOT(tok[me], k[me] + 1) ->
				printf("P%d release: mkdir %d/%d\n", me, tok[me], k[me] + 1);
				MKSLOT(tok[me], k[me] + 1); k[me]++; pc[me] = RL_MARK
#ifndef NO_IO_ERRORS
			:: true -> TOIDLE
			:: CANMKSLOT(tok[me], k[me] + 1) -> MKSLOT(tok[me], k[me] + 1); TOIDLE
#endif
			fi
		}
	:: pc[me] == RL_MARK ->
		atomic {
			if
			:: true -> MARK(tok[me], k[me])
			:: true -> skip
			fi;
			TOIDLE
		}
	od
}

/* ------------------------------------------------------------------ */
/* Time: a tick ages every clock by one (equal rates; offsets do not   */
/* enter the protocol).  Declared after Proc: pids 0..NPROC-1 are the  */
/* processes.                                                          */
/* ------------------------------------------------------------------ */
#define TICK(p) \
	if :: STAMPED(p) && sage[p] < HOLDFOR -> sage[p]++ :: else -> skip fi; \
	if :: rem[p] > 0 -> rem[p]-- :: else -> skip fi

active proctype Clock()
{
end_clock:
	do
#if NPROC == 2
	:: d_step { if :: cage < WAITFOR -> cage++ :: else -> skip fi; TICK(0); TICK(1); printf("tick\n") }
#else
	:: d_step { if :: cage < WAITFOR -> cage++ :: else -> skip fi; TICK(0); TICK(1); TICK(2); printf("tick\n") }
#endif
	od
}
