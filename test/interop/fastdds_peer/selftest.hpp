#pragma once

/** Checks the hand-written CDR of ros_msgs.hpp; prints "N passed, M failed". */
int run_selftest();
