/*
 * DMAR for tests/pci/test_qemu.py: QEMU q35 with pcie-root-ports at 00:03.0
 * and 00:04.0, an edu device behind each, and the intel-iommu unit at
 * 0xfed90000 (the second DRHD at 0xfed91000 exists only in this table).
 * Scopes of the first DRHD (VT-d 8.3.1), in order: the edu behind 00:03.0
 * (path 03.0,00.0); everything below 00:04.0 (a PCI sub-hierarchy); a path
 * through 00:05.0, where there is no device; a path through 00:1f.0, which
 * is no bridge. Compiled by test_qemu.py with iasl.
 */
[0004]                          Signature : "DMAR"
[0004]                       Table Length : 00000076
[0001]                           Revision : 01
[0001]                           Checksum : 00
[0006]                             Oem ID : "ISHTST"
[0008]                       Oem Table ID : "BRIDGES "
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "INTL"
[0004]              Asl Compiler Revision : 20200925

[0001]                 Host Address Width : 26
[0001]                              Flags : 01
[0010]                           Reserved : 00 00 00 00 00 00 00 00 00 00

[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0036

[0001]                              Flags : 00
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000
[0008]              Register Base Address : 00000000FED90000

[0001]                  Device Scope Type : 01 [PCI Endpoint Device]
[0001]                       Entry Length : 0A
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 03,00
[0002]                           PCI Path : 00,00

[0001]                  Device Scope Type : 02 [PCI Bridge Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 04,00

[0001]                  Device Scope Type : 01 [PCI Endpoint Device]
[0001]                       Entry Length : 0A
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 05,00
[0002]                           PCI Path : 00,00

[0001]                  Device Scope Type : 01 [PCI Endpoint Device]
[0001]                       Entry Length : 0A
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 1F,00
[0002]                           PCI Path : 00,00

[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0010

[0001]                              Flags : 01
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000
[0008]              Register Base Address : 00000000FED91000
