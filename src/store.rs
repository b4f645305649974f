//! /run/labctl/<lab>/: lab state under a lock, written atomically.
