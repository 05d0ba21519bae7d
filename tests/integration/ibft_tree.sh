# Sourced by the firmware tests: an iSCSI Boot Firmware Table as the
# kernel's iscsi_ibft shows it under <sysfs>/firmware/ibft (attribute
# names and value formats of drivers/firmware/iscsi_ibft.c: one value and
# a newline per file, subnet-mask without one, the LUN as 8 x "%x").
#
# ibft_tree SYSFS: two NICs and two targets, as a firmware configured
# for a root disk (CHAP both ways) and a data disk would leave them;
# each NIC's `device` link leads to a PCI function with net/fwnicN.
IBFT_INAME=iqn.1994-05.com.example:boot-client
IBFT_T0=iqn.2003-01.org.example.fw:root
IBFT_T1=iqn.2003-01.org.example.fw:data
IBFT_SECRET=bootsecret12
IBFT_RSECRET=tgtsecret123

ibft_w() { # SYSFS REL VALUE
	mkdir -p "$(dirname "$1/firmware/ibft/$2")"
	printf '%s\n' "$3" > "$1/firmware/ibft/$2"
}

ibft_tree() { # SYSFS
	local s=$1 d=$1/firmware/ibft
	ibft_w "$s" initiator/index 0
	ibft_w "$s" initiator/flags 3
	ibft_w "$s" initiator/initiator-name "$IBFT_INAME"
	ibft_w "$s" ethernet0/index 0
	ibft_w "$s" ethernet0/flags 3
	ibft_w "$s" ethernet0/ip-addr 192.0.2.15
	ibft_w "$s" ethernet0/prefix-len 24
	printf 255.255.255.0 > "$d/ethernet0/subnet-mask"
	ibft_w "$s" ethernet0/origin 1
	ibft_w "$s" ethernet0/gateway 192.0.2.1
	ibft_w "$s" ethernet0/primary-dns 192.0.2.53
	ibft_w "$s" ethernet0/secondary-dns 192.0.2.54
	ibft_w "$s" ethernet0/vlan 0
	ibft_w "$s" ethernet0/mac 52:54:00:12:34:56
	ibft_w "$s" ethernet1/index 1
	ibft_w "$s" ethernet1/flags 1
	ibft_w "$s" ethernet1/ip-addr 198.51.100.7
	ibft_w "$s" ethernet1/prefix-len 16
	printf 255.255.0.0 > "$d/ethernet1/subnet-mask"
	ibft_w "$s" ethernet1/origin 3
	ibft_w "$s" ethernet1/dhcp 198.51.100.1
	ibft_w "$s" ethernet1/vlan 0
	ibft_w "$s" ethernet1/mac 52:54:00:ab:cd:ef
	ibft_w "$s" target0/index 0
	ibft_w "$s" target0/flags 3
	ibft_w "$s" target0/ip-addr 127.0.0.1
	ibft_w "$s" target0/port 3260
	ibft_w "$s" target0/lun 00000000
	ibft_w "$s" target0/chap-type 2
	ibft_w "$s" target0/nic-assoc 0
	ibft_w "$s" target0/target-name "$IBFT_T0"
	ibft_w "$s" target0/chap-name bootuser
	ibft_w "$s" target0/chap-secret "$IBFT_SECRET"
	ibft_w "$s" target0/rev-chap-name tgtuser
	ibft_w "$s" target0/rev-chap-name-secret "$IBFT_RSECRET"
	ibft_w "$s" target1/index 1
	ibft_w "$s" target1/flags 1
	ibft_w "$s" target1/ip-addr 127.0.0.2
	ibft_w "$s" target1/port 3261
	ibft_w "$s" target1/lun 01000000
	ibft_w "$s" target1/chap-type 0
	ibft_w "$s" target1/nic-assoc 1
	ibft_w "$s" target1/target-name "$IBFT_T1"
	ibft_w "$s" acpi_header/signature iBFT
	ibft_w "$s" acpi_header/oem_id QEMU
	ibft_w "$s" acpi_header/oem_table_id IBFT
	mkdir -p "$s/devices/pci0000:00/0000:00:03.0/net/fwnic0" "$s/devices/pci0000:00/0000:00:04.0/net/fwnic1"
	ln -s ../../../devices/pci0000:00/0000:00:03.0 "$d/ethernet0/device"
	ln -s ../../../devices/pci0000:00/0000:00:04.0 "$d/ethernet1/device"
}
