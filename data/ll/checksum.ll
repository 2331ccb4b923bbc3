; ModuleID = 'src/checksum.c'
source_filename = "src/checksum.c"
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-unknown-linux5.10.0-gnu2.31.0"

@crc_ready = internal unnamed_addr global i1 false, align 4
@crc_table = internal unnamed_addr global [256 x i32] zeroinitializer, align 16
@.str = private unnamed_addr constant [6 x i8] c"crc32\00", align 1
@.str.1 = private unnamed_addr constant [8 x i8] c"adler32\00", align 1
@.str.2 = private unnamed_addr constant [11 x i8] c"fletcher16\00", align 1
@.str.3 = private unnamed_addr constant [8 x i8] c"fnv1a32\00", align 1
@.str.4 = private unnamed_addr constant [5 x i8] c"djb2\00", align 1
@.str.5 = private unnamed_addr constant [5 x i8] c"sdbm\00", align 1
@.str.6 = private unnamed_addr constant [14 x i8] c"one-at-a-time\00", align 1
@.str.7 = private unnamed_addr constant [5 x i8] c"xor8\00", align 1
@.str.8 = private unnamed_addr constant [5 x i8] c"sum8\00", align 1
@.str.9 = private unnamed_addr constant [8 x i8] c"unknown\00", align 1
@.str.10 = private unnamed_addr constant [13 x i8] c"checksum: ok\00", align 1
@.str.11 = private unnamed_addr constant [24 x i8] c"checksum: out of memory\00", align 1
@.str.12 = private unnamed_addr constant [27 x i8] c"checksum: invalid argument\00", align 1
@.str.13 = private unnamed_addr constant [28 x i8] c"checksum: no such algorithm\00", align 1
@.str.14 = private unnamed_addr constant [22 x i8] c"checksum: buffer full\00", align 1
@.str.15 = private unnamed_addr constant [29 x i8] c"checksum: value out of range\00", align 1
@.str.16 = private unnamed_addr constant [23 x i8] c"checksum: syntax error\00", align 1
@.str.17 = private unnamed_addr constant [24 x i8] c"checksum: unknown error\00", align 1
@.crctable = private unnamed_addr constant [256 x i32] [i32 0, i32 1996959894, i32 -301047508, i32 -1727442502, i32 124634137, i32 1886057615, i32 -379345611, i32 -1637575261, i32 249268274, i32 2044508324, i32 -522852066, i32 -1747789432, i32 162941995, i32 2125561021, i32 -407360249, i32 -1866523247, i32 498536548, i32 1789927666, i32 -205950648, i32 -2067906082, i32 450548861, i32 1843258603, i32 -187386543, i32 -2083289657, i32 325883990, i32 1684777152, i32 -43845254, i32 -1973040660, i32 335633487, i32 1661365465, i32 -99664541, i32 -1928851979, i32 997073096, i32 1281953886, i32 -715111964, i32 -1570279054, i32 1006888145, i32 1258607687, i32 -770865667, i32 -1526024853, i32 901097722, i32 1119000684, i32 -608450090, i32 -1396901568, i32 853044451, i32 1172266101, i32 -589951537, i32 -1412350631, i32 651767980, i32 1373503546, i32 -925412992, i32 -1076862698, i32 565507253, i32 1454621731, i32 -809855591, i32 -1195530993, i32 671266974, i32 1594198024, i32 -972236366, i32 -1324619484, i32 795835527, i32 1483230225, i32 -1050600021, i32 -1234817731, i32 1994146192, i32 31158534, i32 -1731059524, i32 -271249366, i32 1907459465, i32 112637215, i32 -1614814043, i32 -390540237, i32 2013776290, i32 251722036, i32 -1777751922, i32 -519137256, i32 2137656763, i32 141376813, i32 -1855689577, i32 -429695999, i32 1802195444, i32 476864866, i32 -2056965928, i32 -228458418, i32 1812370925, i32 453092731, i32 -2113342271, i32 -183516073, i32 1706088902, i32 314042704, i32 -1950435094, i32 -54949764, i32 1658658271, i32 366619977, i32 -1932296973, i32 -69972891, i32 1303535960, i32 984961486, i32 -1547960204, i32 -725929758, i32 1256170817, i32 1037604311, i32 -1529756563, i32 -740887301, i32 1131014506, i32 879679996, i32 -1385723834, i32 -631195440, i32 1141124467, i32 855842277, i32 -1442165665, i32 -586318647, i32 1342533948, i32 654459306, i32 -1106571248, i32 -921952122, i32 1466479909, i32 544179635, i32 -1184443383, i32 -832445281, i32 1591671054, i32 702138776, i32 -1328506846, i32 -942167884, i32 1504918807, i32 783551873, i32 -1212326853, i32 -1061524307, i32 -306674912, i32 -1698712650, i32 62317068, i32 1957810842, i32 -355121351, i32 -1647151185, i32 81470997, i32 1943803523, i32 -480048366, i32 -1805370492, i32 225274430, i32 2053790376, i32 -468791541, i32 -1828061283, i32 167816743, i32 2097651377, i32 -267414716, i32 -2029476910, i32 503444072, i32 1762050814, i32 -144550051, i32 -2140837941, i32 426522225, i32 1852507879, i32 -19653770, i32 -1982649376, i32 282753626, i32 1742555852, i32 -105259153, i32 -1900089351, i32 397917763, i32 1622183637, i32 -690576408, i32 -1580100738, i32 953729732, i32 1340076626, i32 -776247311, i32 -1497606297, i32 1068828381, i32 1219638859, i32 -670225446, i32 -1358292148, i32 906185462, i32 1090812512, i32 -547295293, i32 -1469587627, i32 829329135, i32 1181335161, i32 -882789492, i32 -1134132454, i32 628085408, i32 1382605366, i32 -871598187, i32 -1156888829, i32 570562233, i32 1426400815, i32 -977650754, i32 -1296233688, i32 733239954, i32 1555261956, i32 -1026031705, i32 -1244606671, i32 752459403, i32 1541320221, i32 -1687895376, i32 -328994266, i32 1969922972, i32 40735498, i32 -1677130071, i32 -351390145, i32 1913087877, i32 83908371, i32 -1782625662, i32 -491226604, i32 2075208622, i32 213261112, i32 -1831694693, i32 -438977011, i32 2094854071, i32 198958881, i32 -2032938284, i32 -237706686, i32 1759359992, i32 534414190, i32 -2118248755, i32 -155638181, i32 1873836001, i32 414664567, i32 -2012718362, i32 -15766928, i32 1711684554, i32 285281116, i32 -1889165569, i32 -127750551, i32 1634467795, i32 376229701, i32 -1609899400, i32 -686959890, i32 1308918612, i32 956543938, i32 -1486412191, i32 -799009033, i32 1231636301, i32 1047427035, i32 -1362007478, i32 -640263460, i32 1088359270, i32 936918000, i32 -1447252397, i32 -558129467, i32 1202900863, i32 817233897, i32 -1111625188, i32 -893730166, i32 1404277552, i32 615818150, i32 -1160759803, i32 -841546093, i32 1423857449, i32 601450431, i32 -1285129682, i32 -1000256840, i32 1567103746, i32 711928724, i32 -1274298825, i32 -1022587231, i32 1510334235, i32 755167117]

; Function Attrs: nofree norecurse nosync nounwind memory(readwrite, argmem: read, inaccessiblemem: none, target_mem0: none, target_mem1: none) uwtable
define i32 @ck_crc32_update(i32 noundef %0, ptr noundef readonly captures(none) %1, i64 noundef %2) local_unnamed_addr #0 {
  %4 = load i1, ptr @crc_ready, align 1
  br i1 %4, label %16, label %5

5:                                                ; preds = %3, %5
  %6 = phi i64 [ %13, %5 ], [ 0, %3 ]
  %7 = trunc nuw nsw i64 %6 to i32
  %8 = lshr i32 %7, 8
  %9 = getelementptr inbounds nuw i32, ptr @.crctable, i64 %6
  %10 = load i32, ptr %9, align 4
  %11 = xor i32 %8, %10
  %12 = getelementptr inbounds nuw i32, ptr @crc_table, i64 %6
  store i32 %11, ptr %12, align 4, !tbaa !7
  %13 = add nuw nsw i64 %6, 1
  %14 = icmp eq i64 %13, 256
  br i1 %14, label %15, label %5, !llvm.loop !11

15:                                               ; preds = %5
  store i1 true, ptr @crc_ready, align 1
  br label %16

16:                                               ; preds = %15, %3
  %17 = icmp eq i64 %2, 0
  br i1 %17, label %22, label %18

18:                                               ; preds = %16
  %19 = xor i32 %0, -1
  br label %24

20:                                               ; preds = %24
  %21 = xor i32 %35, -1
  br label %22

22:                                               ; preds = %20, %16
  %23 = phi i32 [ %0, %16 ], [ %21, %20 ]
  ret i32 %23

24:                                               ; preds = %18, %24
  %25 = phi i64 [ %36, %24 ], [ 0, %18 ]
  %26 = phi i32 [ %35, %24 ], [ %19, %18 ]
  %27 = getelementptr inbounds nuw i8, ptr %1, i64 %25
  %28 = load i8, ptr %27, align 1, !tbaa !13
  %29 = trunc i32 %26 to i8
  %30 = xor i8 %28, %29
  %31 = zext i8 %30 to i64
  %32 = getelementptr inbounds nuw i32, ptr @crc_table, i64 %31
  %33 = load i32, ptr %32, align 4, !tbaa !7
  %34 = lshr i32 %26, 8
  %35 = xor i32 %33, %34
  %36 = add nuw i64 %25, 1
  %37 = icmp eq i64 %36, %2
  br i1 %37, label %20, label %24, !llvm.loop !14
}

; Function Attrs: nofree norecurse nosync nounwind memory(readwrite, argmem: read, inaccessiblemem: none, target_mem0: none, target_mem1: none) uwtable
define i32 @ck_crc32(ptr noundef readonly captures(none) %0, i64 noundef %1) local_unnamed_addr #0 {
  %3 = load i1, ptr @crc_ready, align 1
  br i1 %3, label %15, label %4

4:                                                ; preds = %2, %4
  %5 = phi i64 [ %12, %4 ], [ 0, %2 ]
  %6 = trunc nuw nsw i64 %5 to i32
  %7 = lshr i32 %6, 8
  %8 = getelementptr inbounds nuw i32, ptr @.crctable, i64 %5
  %9 = load i32, ptr %8, align 4
  %10 = xor i32 %7, %9
  %11 = getelementptr inbounds nuw i32, ptr @crc_table, i64 %5
  store i32 %10, ptr %11, align 4, !tbaa !7
  %12 = add nuw nsw i64 %5, 1
  %13 = icmp eq i64 %12, 256
  br i1 %13, label %14, label %4, !llvm.loop !11

14:                                               ; preds = %4
  store i1 true, ptr @crc_ready, align 1
  br label %15

15:                                               ; preds = %14, %2
  %16 = icmp eq i64 %1, 0
  br i1 %16, label %33, label %19

17:                                               ; preds = %19
  %18 = xor i32 %30, -1
  br label %33

19:                                               ; preds = %15, %19
  %20 = phi i64 [ %31, %19 ], [ 0, %15 ]
  %21 = phi i32 [ %30, %19 ], [ -1, %15 ]
  %22 = getelementptr inbounds nuw i8, ptr %0, i64 %20
  %23 = load i8, ptr %22, align 1, !tbaa !13
  %24 = trunc i32 %21 to i8
  %25 = xor i8 %23, %24
  %26 = zext i8 %25 to i64
  %27 = getelementptr inbounds nuw i32, ptr @crc_table, i64 %26
  %28 = load i32, ptr %27, align 4, !tbaa !7
  %29 = lshr i32 %21, 8
  %30 = xor i32 %28, %29
  %31 = add nuw i64 %20, 1
  %32 = icmp eq i64 %31, %1
  br i1 %32, label %17, label %19, !llvm.loop !14

33:                                               ; preds = %15, %17
  %34 = phi i32 [ 0, %15 ], [ %18, %17 ]
  ret i32 %34
}

; Function Attrs: nofree norecurse nosync nounwind memory(argmem: read) uwtable
define range(i32 0, -983040) i32 @ck_adler32(ptr noundef readonly captures(none) %0, i64 noundef %1) local_unnamed_addr #1 {
  %3 = icmp eq i64 %1, 0
  br i1 %3, label %7, label %9

4:                                                ; preds = %9
  %5 = shl nuw i32 %19, 16
  %6 = or disjoint i32 %5, %17
  br label %7

7:                                                ; preds = %4, %2
  %8 = phi i32 [ 1, %2 ], [ %6, %4 ]
  ret i32 %8

9:                                                ; preds = %2, %9
  %10 = phi i64 [ %20, %9 ], [ 0, %2 ]
  %11 = phi i32 [ %19, %9 ], [ 0, %2 ]
  %12 = phi i32 [ %17, %9 ], [ 1, %2 ]
  %13 = getelementptr inbounds nuw i8, ptr %0, i64 %10
  %14 = load i8, ptr %13, align 1, !tbaa !13
  %15 = zext i8 %14 to i32
  %16 = add nuw nsw i32 %12, %15
  %17 = urem i32 %16, 65521
  %18 = add nuw nsw i32 %17, %11
  %19 = urem i32 %18, 65521
  %20 = add nuw i64 %10, 1
  %21 = icmp eq i64 %20, %1
  br i1 %21, label %4, label %9, !llvm.loop !15
}

; Function Attrs: nofree norecurse nosync nounwind memory(argmem: read) uwtable
define range(i32 0, 65280) i32 @ck_fletcher16(ptr noundef readonly captures(none) %0, i64 noundef %1) local_unnamed_addr #1 {
  %3 = icmp eq i64 %1, 0
  br i1 %3, label %7, label %9

4:                                                ; preds = %9
  %5 = shl nuw nsw i32 %19, 8
  %6 = or disjoint i32 %5, %17
  br label %7

7:                                                ; preds = %4, %2
  %8 = phi i32 [ 0, %2 ], [ %6, %4 ]
  ret i32 %8

9:                                                ; preds = %2, %9
  %10 = phi i64 [ %20, %9 ], [ 0, %2 ]
  %11 = phi i32 [ %19, %9 ], [ 0, %2 ]
  %12 = phi i32 [ %17, %9 ], [ 0, %2 ]
  %13 = getelementptr inbounds nuw i8, ptr %0, i64 %10
  %14 = load i8, ptr %13, align 1, !tbaa !13
  %15 = zext i8 %14 to i32
  %16 = add nuw nsw i32 %12, %15
  %17 = urem i32 %16, 255
  %18 = add nuw nsw i32 %17, %11
  %19 = urem i32 %18, 255
  %20 = add nuw i64 %10, 1
  %21 = icmp eq i64 %20, %1
  br i1 %21, label %4, label %9, !llvm.loop !16
}

; Function Attrs: nofree norecurse nosync nounwind memory(argmem: read) uwtable
define i32 @ck_fnv1a32(ptr noundef readonly captures(none) %0, i64 noundef %1) local_unnamed_addr #1 {
  %3 = icmp eq i64 %1, 0
  br i1 %3, label %4, label %6

4:                                                ; preds = %6, %2
  %5 = phi i32 [ -2128831035, %2 ], [ %13, %6 ]
  ret i32 %5

6:                                                ; preds = %2, %6
  %7 = phi i64 [ %14, %6 ], [ 0, %2 ]
  %8 = phi i32 [ %13, %6 ], [ -2128831035, %2 ]
  %9 = getelementptr inbounds nuw i8, ptr %0, i64 %7
  %10 = load i8, ptr %9, align 1, !tbaa !13
  %11 = zext i8 %10 to i32
  %12 = xor i32 %8, %11
  %13 = mul i32 %12, 16777619
  %14 = add nuw i64 %7, 1
  %15 = icmp eq i64 %14, %1
  br i1 %15, label %4, label %6, !llvm.loop !17
}

; Function Attrs: nofree norecurse nosync nounwind memory(argmem: read) uwtable
define i32 @ck_djb2(ptr noundef readonly captures(none) %0, i64 noundef %1) local_unnamed_addr #1 {
  %3 = icmp eq i64 %1, 0
  br i1 %3, label %4, label %6

4:                                                ; preds = %6, %2
  %5 = phi i32 [ 5381, %2 ], [ %13, %6 ]
  ret i32 %5

6:                                                ; preds = %2, %6
  %7 = phi i64 [ %14, %6 ], [ 0, %2 ]
  %8 = phi i32 [ %13, %6 ], [ 5381, %2 ]
  %9 = mul i32 %8, 33
  %10 = getelementptr inbounds nuw i8, ptr %0, i64 %7
  %11 = load i8, ptr %10, align 1, !tbaa !13
  %12 = zext i8 %11 to i32
  %13 = add i32 %9, %12
  %14 = add nuw i64 %7, 1
  %15 = icmp eq i64 %14, %1
  br i1 %15, label %4, label %6, !llvm.loop !18
}

; Function Attrs: nofree norecurse nosync nounwind memory(argmem: read) uwtable
define i32 @ck_sdbm(ptr noundef readonly captures(none) %0, i64 noundef %1) local_unnamed_addr #1 {
  %3 = icmp eq i64 %1, 0
  br i1 %3, label %4, label %6

4:                                                ; preds = %6, %2
  %5 = phi i32 [ 0, %2 ], [ %13, %6 ]
  ret i32 %5

6:                                                ; preds = %2, %6
  %7 = phi i64 [ %14, %6 ], [ 0, %2 ]
  %8 = phi i32 [ %13, %6 ], [ 0, %2 ]
  %9 = getelementptr inbounds nuw i8, ptr %0, i64 %7
  %10 = load i8, ptr %9, align 1, !tbaa !13
  %11 = zext i8 %10 to i32
  %12 = mul i32 %8, 65599
  %13 = add i32 %12, %11
  %14 = add nuw i64 %7, 1
  %15 = icmp eq i64 %14, %1
  br i1 %15, label %4, label %6, !llvm.loop !19
}

; Function Attrs: nofree norecurse nosync nounwind memory(argmem: read) uwtable
define i32 @ck_oaat(ptr noundef readonly captures(none) %0, i64 noundef %1) local_unnamed_addr #1 {
  %3 = icmp eq i64 %1, 0
  br i1 %3, label %6, label %11

4:                                                ; preds = %11
  %5 = mul i32 %20, 9
  br label %6

6:                                                ; preds = %4, %2
  %7 = phi i32 [ 0, %2 ], [ %5, %4 ]
  %8 = lshr i32 %7, 11
  %9 = xor i32 %8, %7
  %10 = mul i32 %9, 32769
  ret i32 %10

11:                                               ; preds = %2, %11
  %12 = phi i64 [ %21, %11 ], [ 0, %2 ]
  %13 = phi i32 [ %20, %11 ], [ 0, %2 ]
  %14 = getelementptr inbounds nuw i8, ptr %0, i64 %12
  %15 = load i8, ptr %14, align 1, !tbaa !13
  %16 = zext i8 %15 to i32
  %17 = add i32 %13, %16
  %18 = mul i32 %17, 1025
  %19 = lshr i32 %18, 6
  %20 = xor i32 %19, %18
  %21 = add nuw i64 %12, 1
  %22 = icmp eq i64 %21, %1
  br i1 %22, label %4, label %11, !llvm.loop !20
}

; Function Attrs: nofree norecurse nosync nounwind memory(argmem: read) uwtable
define range(i32 0, 256) i32 @ck_xor8(ptr noundef readonly captures(none) %0, i64 noundef %1) local_unnamed_addr #1 {
  %3 = icmp eq i64 %1, 0
  br i1 %3, label %4, label %6

4:                                                ; preds = %6, %2
  %5 = phi i32 [ 0, %2 ], [ %12, %6 ]
  ret i32 %5

6:                                                ; preds = %2, %6
  %7 = phi i64 [ %13, %6 ], [ 0, %2 ]
  %8 = phi i32 [ %12, %6 ], [ 0, %2 ]
  %9 = getelementptr inbounds nuw i8, ptr %0, i64 %7
  %10 = load i8, ptr %9, align 1, !tbaa !13
  %11 = zext i8 %10 to i32
  %12 = xor i32 %8, %11
  %13 = add nuw i64 %7, 1
  %14 = icmp eq i64 %13, %1
  br i1 %14, label %4, label %6, !llvm.loop !21
}

; Function Attrs: nofree norecurse nosync nounwind memory(argmem: read) uwtable
define range(i32 0, 256) i32 @ck_sum8(ptr noundef readonly captures(none) %0, i64 noundef %1) local_unnamed_addr #1 {
  %3 = icmp eq i64 %1, 0
  br i1 %3, label %6, label %8

4:                                                ; preds = %8
  %5 = and i32 %14, 255
  br label %6

6:                                                ; preds = %4, %2
  %7 = phi i32 [ 0, %2 ], [ %5, %4 ]
  ret i32 %7

8:                                                ; preds = %2, %8
  %9 = phi i64 [ %15, %8 ], [ 0, %2 ]
  %10 = phi i32 [ %14, %8 ], [ 0, %2 ]
  %11 = getelementptr inbounds nuw i8, ptr %0, i64 %9
  %12 = load i8, ptr %11, align 1, !tbaa !13
  %13 = zext i8 %12 to i32
  %14 = add i32 %10, %13
  %15 = add nuw i64 %9, 1
  %16 = icmp eq i64 %15, %1
  br i1 %16, label %4, label %8, !llvm.loop !22
}

; Function Attrs: mustprogress nofree norecurse nosync nounwind willreturn memory(none) uwtable
define i32 @ck_mix32(i32 noundef %0) local_unnamed_addr #2 {
  %2 = lshr i32 %0, 16
  %3 = xor i32 %2, %0
  %4 = mul i32 %3, -2048144789
  %5 = lshr i32 %4, 13
  %6 = xor i32 %5, %4
  %7 = mul i32 %6, -1028477387
  %8 = lshr i32 %7, 16
  %9 = xor i32 %8, %7
  ret i32 %9
}

; Function Attrs: mustprogress nofree norecurse nosync nounwind willreturn memory(none) uwtable
define noundef i32 @ck_combine(i32 noundef %0, i32 noundef %1) local_unnamed_addr #2 {
  %3 = add i32 %1, -1640531527
  %4 = shl i32 %0, 6
  %5 = add i32 %3, %4
  %6 = lshr i32 %0, 2
  %7 = add i32 %5, %6
  %8 = xor i32 %7, %0
  ret i32 %8
}

; Function Attrs: nofree norecurse nosync nounwind memory(readwrite, argmem: read, inaccessiblemem: none, target_mem0: none, target_mem1: none) uwtable
define i32 @ck_by_algo(i32 noundef %0, ptr noundef readonly captures(none) %1, i64 noundef %2) local_unnamed_addr #0 {
  switch i32 %0, label %152 [
    i32 0, label %4
    i32 1, label %35
    i32 2, label %53
    i32 3, label %71
    i32 4, label %83
    i32 5, label %95
    i32 6, label %107
    i32 7, label %128
    i32 8, label %139
  ]

4:                                                ; preds = %3
  %5 = load i1, ptr @crc_ready, align 1
  br i1 %5, label %17, label %6

6:                                                ; preds = %4, %6
  %7 = phi i64 [ %14, %6 ], [ 0, %4 ]
  %8 = trunc nuw nsw i64 %7 to i32
  %9 = lshr i32 %8, 8
  %10 = getelementptr inbounds nuw i32, ptr @.crctable, i64 %7
  %11 = load i32, ptr %10, align 4
  %12 = xor i32 %9, %11
  %13 = getelementptr inbounds nuw i32, ptr @crc_table, i64 %7
  store i32 %12, ptr %13, align 4, !tbaa !7
  %14 = add nuw nsw i64 %7, 1
  %15 = icmp eq i64 %14, 256
  br i1 %15, label %16, label %6, !llvm.loop !11

16:                                               ; preds = %6
  store i1 true, ptr @crc_ready, align 1
  br label %17

17:                                               ; preds = %16, %4
  %18 = icmp eq i64 %2, 0
  br i1 %18, label %152, label %21

19:                                               ; preds = %21
  %20 = xor i32 %32, -1
  br label %152

21:                                               ; preds = %17, %21
  %22 = phi i64 [ %33, %21 ], [ 0, %17 ]
  %23 = phi i32 [ %32, %21 ], [ -1, %17 ]
  %24 = getelementptr inbounds nuw i8, ptr %1, i64 %22
  %25 = load i8, ptr %24, align 1, !tbaa !13
  %26 = trunc i32 %23 to i8
  %27 = xor i8 %25, %26
  %28 = zext i8 %27 to i64
  %29 = getelementptr inbounds nuw i32, ptr @crc_table, i64 %28
  %30 = load i32, ptr %29, align 4, !tbaa !7
  %31 = lshr i32 %23, 8
  %32 = xor i32 %30, %31
  %33 = add nuw i64 %22, 1
  %34 = icmp eq i64 %33, %2
  br i1 %34, label %19, label %21, !llvm.loop !14

35:                                               ; preds = %3
  %36 = icmp eq i64 %2, 0
  br i1 %36, label %152, label %40

37:                                               ; preds = %40
  %38 = shl nuw i32 %50, 16
  %39 = or disjoint i32 %38, %48
  br label %152

40:                                               ; preds = %35, %40
  %41 = phi i64 [ %51, %40 ], [ 0, %35 ]
  %42 = phi i32 [ %50, %40 ], [ 0, %35 ]
  %43 = phi i32 [ %48, %40 ], [ 1, %35 ]
  %44 = getelementptr inbounds nuw i8, ptr %1, i64 %41
  %45 = load i8, ptr %44, align 1, !tbaa !13
  %46 = zext i8 %45 to i32
  %47 = add nuw nsw i32 %43, %46
  %48 = urem i32 %47, 65521
  %49 = add nuw nsw i32 %48, %42
  %50 = urem i32 %49, 65521
  %51 = add nuw i64 %41, 1
  %52 = icmp eq i64 %51, %2
  br i1 %52, label %37, label %40, !llvm.loop !15

53:                                               ; preds = %3
  %54 = icmp eq i64 %2, 0
  br i1 %54, label %152, label %58

55:                                               ; preds = %58
  %56 = shl nuw nsw i32 %68, 8
  %57 = or disjoint i32 %56, %66
  br label %152

58:                                               ; preds = %53, %58
  %59 = phi i64 [ %69, %58 ], [ 0, %53 ]
  %60 = phi i32 [ %68, %58 ], [ 0, %53 ]
  %61 = phi i32 [ %66, %58 ], [ 0, %53 ]
  %62 = getelementptr inbounds nuw i8, ptr %1, i64 %59
  %63 = load i8, ptr %62, align 1, !tbaa !13
  %64 = zext i8 %63 to i32
  %65 = add nuw nsw i32 %61, %64
  %66 = urem i32 %65, 255
  %67 = add nuw nsw i32 %66, %60
  %68 = urem i32 %67, 255
  %69 = add nuw i64 %59, 1
  %70 = icmp eq i64 %69, %2
  br i1 %70, label %55, label %58, !llvm.loop !16

71:                                               ; preds = %3
  %72 = icmp eq i64 %2, 0
  br i1 %72, label %152, label %73

73:                                               ; preds = %71, %73
  %74 = phi i64 [ %81, %73 ], [ 0, %71 ]
  %75 = phi i32 [ %80, %73 ], [ -2128831035, %71 ]
  %76 = getelementptr inbounds nuw i8, ptr %1, i64 %74
  %77 = load i8, ptr %76, align 1, !tbaa !13
  %78 = zext i8 %77 to i32
  %79 = xor i32 %75, %78
  %80 = mul i32 %79, 16777619
  %81 = add nuw i64 %74, 1
  %82 = icmp eq i64 %81, %2
  br i1 %82, label %152, label %73, !llvm.loop !17

83:                                               ; preds = %3
  %84 = icmp eq i64 %2, 0
  br i1 %84, label %152, label %85

85:                                               ; preds = %83, %85
  %86 = phi i64 [ %93, %85 ], [ 0, %83 ]
  %87 = phi i32 [ %92, %85 ], [ 5381, %83 ]
  %88 = mul i32 %87, 33
  %89 = getelementptr inbounds nuw i8, ptr %1, i64 %86
  %90 = load i8, ptr %89, align 1, !tbaa !13
  %91 = zext i8 %90 to i32
  %92 = add i32 %88, %91
  %93 = add nuw i64 %86, 1
  %94 = icmp eq i64 %93, %2
  br i1 %94, label %152, label %85, !llvm.loop !18

95:                                               ; preds = %3
  %96 = icmp eq i64 %2, 0
  br i1 %96, label %152, label %97

97:                                               ; preds = %95, %97
  %98 = phi i64 [ %105, %97 ], [ 0, %95 ]
  %99 = phi i32 [ %104, %97 ], [ 0, %95 ]
  %100 = getelementptr inbounds nuw i8, ptr %1, i64 %98
  %101 = load i8, ptr %100, align 1, !tbaa !13
  %102 = zext i8 %101 to i32
  %103 = mul i32 %99, 65599
  %104 = add i32 %103, %102
  %105 = add nuw i64 %98, 1
  %106 = icmp eq i64 %105, %2
  br i1 %106, label %152, label %97, !llvm.loop !19

107:                                              ; preds = %3
  %108 = icmp eq i64 %2, 0
  br i1 %108, label %123, label %111

109:                                              ; preds = %111
  %110 = mul i32 %120, 9
  br label %123

111:                                              ; preds = %107, %111
  %112 = phi i64 [ %121, %111 ], [ 0, %107 ]
  %113 = phi i32 [ %120, %111 ], [ 0, %107 ]
  %114 = getelementptr inbounds nuw i8, ptr %1, i64 %112
  %115 = load i8, ptr %114, align 1, !tbaa !13
  %116 = zext i8 %115 to i32
  %117 = add i32 %113, %116
  %118 = mul i32 %117, 1025
  %119 = lshr i32 %118, 6
  %120 = xor i32 %119, %118
  %121 = add nuw i64 %112, 1
  %122 = icmp eq i64 %121, %2
  br i1 %122, label %109, label %111, !llvm.loop !20

123:                                              ; preds = %107, %109
  %124 = phi i32 [ 0, %107 ], [ %110, %109 ]
  %125 = lshr i32 %124, 11
  %126 = xor i32 %125, %124
  %127 = mul i32 %126, 32769
  br label %152

128:                                              ; preds = %3
  %129 = icmp eq i64 %2, 0
  br i1 %129, label %152, label %130

130:                                              ; preds = %128, %130
  %131 = phi i64 [ %137, %130 ], [ 0, %128 ]
  %132 = phi i32 [ %136, %130 ], [ 0, %128 ]
  %133 = getelementptr inbounds nuw i8, ptr %1, i64 %131
  %134 = load i8, ptr %133, align 1, !tbaa !13
  %135 = zext i8 %134 to i32
  %136 = xor i32 %132, %135
  %137 = add nuw i64 %131, 1
  %138 = icmp eq i64 %137, %2
  br i1 %138, label %152, label %130, !llvm.loop !21

139:                                              ; preds = %3
  %140 = icmp eq i64 %2, 0
  br i1 %140, label %152, label %143

141:                                              ; preds = %143
  %142 = and i32 %149, 255
  br label %152

143:                                              ; preds = %139, %143
  %144 = phi i64 [ %150, %143 ], [ 0, %139 ]
  %145 = phi i32 [ %149, %143 ], [ 0, %139 ]
  %146 = getelementptr inbounds nuw i8, ptr %1, i64 %144
  %147 = load i8, ptr %146, align 1, !tbaa !13
  %148 = zext i8 %147 to i32
  %149 = add i32 %145, %148
  %150 = add nuw i64 %144, 1
  %151 = icmp eq i64 %150, %2
  br i1 %151, label %141, label %143, !llvm.loop !22

152:                                              ; preds = %130, %97, %85, %73, %141, %139, %128, %95, %83, %71, %55, %53, %37, %35, %19, %17, %3, %123
  %153 = phi i32 [ %80, %73 ], [ 0, %3 ], [ %20, %19 ], [ %39, %37 ], [ %57, %55 ], [ %142, %141 ], [ %92, %85 ], [ %127, %123 ], [ %104, %97 ], [ 0, %17 ], [ 1, %35 ], [ 0, %53 ], [ -2128831035, %71 ], [ 5381, %83 ], [ 0, %95 ], [ 0, %128 ], [ 0, %139 ], [ %136, %130 ]
  ret i32 %153
}

; Function Attrs: mustprogress nofree norecurse nosync nounwind willreturn memory(none) uwtable
define noundef nonnull ptr @ck_algo_name(i32 noundef %0) local_unnamed_addr #2 {
  switch i32 %0, label %10 [
    i32 0, label %11
    i32 1, label %2
    i32 2, label %3
    i32 3, label %4
    i32 4, label %5
    i32 5, label %6
    i32 6, label %7
    i32 7, label %8
    i32 8, label %9
  ]

2:                                                ; preds = %1
  br label %11

3:                                                ; preds = %1
  br label %11

4:                                                ; preds = %1
  br label %11

5:                                                ; preds = %1
  br label %11

6:                                                ; preds = %1
  br label %11

7:                                                ; preds = %1
  br label %11

8:                                                ; preds = %1
  br label %11

9:                                                ; preds = %1
  br label %11

10:                                               ; preds = %1
  br label %11

11:                                               ; preds = %1, %10, %9, %8, %7, %6, %5, %4, %3, %2
  %12 = phi ptr [ @.str.9, %10 ], [ @.str.8, %9 ], [ @.str.1, %2 ], [ @.str.2, %3 ], [ @.str.3, %4 ], [ @.str.4, %5 ], [ @.str.5, %6 ], [ @.str.6, %7 ], [ @.str.7, %8 ], [ @.str, %1 ]
  ret ptr %12
}

; Function Attrs: mustprogress nofree norecurse nosync nounwind willreturn memory(none) uwtable
define noundef nonnull ptr @ck_strerror(i32 noundef %0) local_unnamed_addr #2 {
  switch i32 %0, label %8 [
    i32 0, label %9
    i32 1, label %2
    i32 2, label %3
    i32 3, label %4
    i32 4, label %5
    i32 5, label %6
    i32 6, label %7
  ]

2:                                                ; preds = %1
  br label %9

3:                                                ; preds = %1
  br label %9

4:                                                ; preds = %1
  br label %9

5:                                                ; preds = %1
  br label %9

6:                                                ; preds = %1
  br label %9

7:                                                ; preds = %1
  br label %9

8:                                                ; preds = %1
  br label %9

9:                                                ; preds = %1, %8, %7, %6, %5, %4, %3, %2
  %10 = phi ptr [ @.str.17, %8 ], [ @.str.16, %7 ], [ @.str.11, %2 ], [ @.str.12, %3 ], [ @.str.13, %4 ], [ @.str.14, %5 ], [ @.str.15, %6 ], [ @.str.10, %1 ]
  ret ptr %10
}

attributes #0 = { nofree norecurse nosync nounwind memory(readwrite, argmem: read, inaccessiblemem: none, target_mem0: none, target_mem1: none) uwtable "frame-pointer"="all" "min-legal-vector-width"="0" "no-trapping-math"="true" "stack-protector-buffer-size"="8" "target-cpu"="x86-64" "target-features"="+64bit,+cmov,+cx8,+fxsr,+idivq-to-divl,+macrofusion,+mmx,+nopl,+slow-3ops-lea,+slow-incdec,+sse,+sse2,+vzeroupper,+x87,-16bit-mode,-32bit-mode,-adx,-aes,-allow-light-256-bit,-amx-avx512,-amx-bf16,-amx-complex,-amx-fp16,-amx-fp8,-amx-int8,-amx-movrs,-amx-tf32,-amx-tile,-avx,-avx10.1,-avx10.2,-avx2,-avx512bf16,-avx512bitalg,-avx512bw,-avx512cd,-avx512dq,-avx512f,-avx512fp16,-avx512ifma,-avx512vbmi,-avx512vbmi2,-avx512vl,-avx512vnni,-avx512vp2intersect,-avx512vpopcntdq,-avxifma,-avxneconvert,-avxvnni,-avxvnniint16,-avxvnniint8,-bmi,-bmi2,-branch-hint,-branchfusion,-ccmp,-cf,-cldemote,-clflushopt,-clwb,-clzero,-cmpccxadd,-crc32,-cx16,-egpr,-enqcmd,-ermsb,-f16c,-false-deps-getmant,-false-deps-lzcnt-tzcnt,-false-deps-mulc,-false-deps-mullq,-false-deps-perm,-false-deps-popcnt,-false-deps-range,-fast-11bytenop,-fast-15bytenop,-fast-7bytenop,-fast-bextr,-fast-dpwssd,-fast-gather,-fast-hops,-fast-imm16,-fast-lzcnt,-fast-movbe,-fast-scalar-fsqrt,-fast-scalar-shift-masks,-fast-shld-rotate,-fast-variable-crosslane-shuffle,-fast-variable-perlane-shuffle,-fast-vector-fsqrt,-fast-vector-shift-masks,-faster-shift-than-shuffle,-fma,-fma4,-fsgsbase,-fsrm,-gfni,-harden-sls-ijmp,-harden-sls-ret,-hreset,-idivl-to-divb,-inline-asm-use-gpr32,-invpcid,-kl,-lea-sp,-lea-uses-ag,-lvi-cfi,-lvi-load-hardening,-lwp,-lzcnt,-movbe,-movdir64b,-movdiri,-movrs,-mwaitx,-ndd,-nf,-no-bypass-delay,-no-bypass-delay-blend,-no-bypass-delay-mov,-no-bypass-delay-shuffle,-pad-short-functions,-pclmul,-pconfig,-pku,-popcnt,-ppx,-prefer-128-bit,-prefer-256-bit,-prefer-legacy-setcc,-prefer-mask-registers,-prefer-movmsk-over-vtest,-prefer-no-gather,-prefer-no-scatter,-prefetchi,-prfchw,-ptwrite,-push2pop2,-raoint,-rdpid,-rdpru,-rdrnd,-rdseed,-retpoline,-retpoline-external-thunk,-retpoline-indirect-branches,-retpoline-indirect-calls,-rtm,-sahf,-sbb-dep-breaking,-serialize,-seses,-sgx,-sha,-sha512,-shstk,-slow-lea,-slow-pmaddwd,-slow-pmulld,-slow-pmullq,-slow-shld,-slow-two-mem-ops,-slow-unaligned-mem-16,-slow-unaligned-mem-32,-sm3,-sm4,-sse-unaligned-mem,-sse3,-sse4.1,-sse4.2,-sse4a,-ssse3,-tagged-globals,-tbm,-tsxldtrk,-tuning-fast-imm-vector-shift,-uintr,-use-glm-div-sqrt-costs,-use-slm-arith-costs,-usermsr,-vaes,-vpclmulqdq,-waitpkg,-wbnoinvd,-widekl,-xop,-xsave,-xsavec,-xsaveopt,-xsaves,-zu" "tune-cpu"="generic" }
attributes #1 = { nofree norecurse nosync nounwind memory(argmem: read) uwtable "frame-pointer"="all" "min-legal-vector-width"="0" "no-trapping-math"="true" "stack-protector-buffer-size"="8" "target-cpu"="x86-64" "target-features"="+64bit,+cmov,+cx8,+fxsr,+idivq-to-divl,+macrofusion,+mmx,+nopl,+slow-3ops-lea,+slow-incdec,+sse,+sse2,+vzeroupper,+x87,-16bit-mode,-32bit-mode,-adx,-aes,-allow-light-256-bit,-amx-avx512,-amx-bf16,-amx-complex,-amx-fp16,-amx-fp8,-amx-int8,-amx-movrs,-amx-tf32,-amx-tile,-avx,-avx10.1,-avx10.2,-avx2,-avx512bf16,-avx512bitalg,-avx512bw,-avx512cd,-avx512dq,-avx512f,-avx512fp16,-avx512ifma,-avx512vbmi,-avx512vbmi2,-avx512vl,-avx512vnni,-avx512vp2intersect,-avx512vpopcntdq,-avxifma,-avxneconvert,-avxvnni,-avxvnniint16,-avxvnniint8,-bmi,-bmi2,-branch-hint,-branchfusion,-ccmp,-cf,-cldemote,-clflushopt,-clwb,-clzero,-cmpccxadd,-crc32,-cx16,-egpr,-enqcmd,-ermsb,-f16c,-false-deps-getmant,-false-deps-lzcnt-tzcnt,-false-deps-mulc,-false-deps-mullq,-false-deps-perm,-false-deps-popcnt,-false-deps-range,-fast-11bytenop,-fast-15bytenop,-fast-7bytenop,-fast-bextr,-fast-dpwssd,-fast-gather,-fast-hops,-fast-imm16,-fast-lzcnt,-fast-movbe,-fast-scalar-fsqrt,-fast-scalar-shift-masks,-fast-shld-rotate,-fast-variable-crosslane-shuffle,-fast-variable-perlane-shuffle,-fast-vector-fsqrt,-fast-vector-shift-masks,-faster-shift-than-shuffle,-fma,-fma4,-fsgsbase,-fsrm,-gfni,-harden-sls-ijmp,-harden-sls-ret,-hreset,-idivl-to-divb,-inline-asm-use-gpr32,-invpcid,-kl,-lea-sp,-lea-uses-ag,-lvi-cfi,-lvi-load-hardening,-lwp,-lzcnt,-movbe,-movdir64b,-movdiri,-movrs,-mwaitx,-ndd,-nf,-no-bypass-delay,-no-bypass-delay-blend,-no-bypass-delay-mov,-no-bypass-delay-shuffle,-pad-short-functions,-pclmul,-pconfig,-pku,-popcnt,-ppx,-prefer-128-bit,-prefer-256-bit,-prefer-legacy-setcc,-prefer-mask-registers,-prefer-movmsk-over-vtest,-prefer-no-gather,-prefer-no-scatter,-prefetchi,-prfchw,-ptwrite,-push2pop2,-raoint,-rdpid,-rdpru,-rdrnd,-rdseed,-retpoline,-retpoline-external-thunk,-retpoline-indirect-branches,-retpoline-indirect-calls,-rtm,-sahf,-sbb-dep-breaking,-serialize,-seses,-sgx,-sha,-sha512,-shstk,-slow-lea,-slow-pmaddwd,-slow-pmulld,-slow-pmullq,-slow-shld,-slow-two-mem-ops,-slow-unaligned-mem-16,-slow-unaligned-mem-32,-sm3,-sm4,-sse-unaligned-mem,-sse3,-sse4.1,-sse4.2,-sse4a,-ssse3,-tagged-globals,-tbm,-tsxldtrk,-tuning-fast-imm-vector-shift,-uintr,-use-glm-div-sqrt-costs,-use-slm-arith-costs,-usermsr,-vaes,-vpclmulqdq,-waitpkg,-wbnoinvd,-widekl,-xop,-xsave,-xsavec,-xsaveopt,-xsaves,-zu" "tune-cpu"="generic" }
attributes #2 = { mustprogress nofree norecurse nosync nounwind willreturn memory(none) uwtable "frame-pointer"="all" "min-legal-vector-width"="0" "no-trapping-math"="true" "stack-protector-buffer-size"="8" "target-cpu"="x86-64" "target-features"="+64bit,+cmov,+cx8,+fxsr,+idivq-to-divl,+macrofusion,+mmx,+nopl,+slow-3ops-lea,+slow-incdec,+sse,+sse2,+vzeroupper,+x87,-16bit-mode,-32bit-mode,-adx,-aes,-allow-light-256-bit,-amx-avx512,-amx-bf16,-amx-complex,-amx-fp16,-amx-fp8,-amx-int8,-amx-movrs,-amx-tf32,-amx-tile,-avx,-avx10.1,-avx10.2,-avx2,-avx512bf16,-avx512bitalg,-avx512bw,-avx512cd,-avx512dq,-avx512f,-avx512fp16,-avx512ifma,-avx512vbmi,-avx512vbmi2,-avx512vl,-avx512vnni,-avx512vp2intersect,-avx512vpopcntdq,-avxifma,-avxneconvert,-avxvnni,-avxvnniint16,-avxvnniint8,-bmi,-bmi2,-branch-hint,-branchfusion,-ccmp,-cf,-cldemote,-clflushopt,-clwb,-clzero,-cmpccxadd,-crc32,-cx16,-egpr,-enqcmd,-ermsb,-f16c,-false-deps-getmant,-false-deps-lzcnt-tzcnt,-false-deps-mulc,-false-deps-mullq,-false-deps-perm,-false-deps-popcnt,-false-deps-range,-fast-11bytenop,-fast-15bytenop,-fast-7bytenop,-fast-bextr,-fast-dpwssd,-fast-gather,-fast-hops,-fast-imm16,-fast-lzcnt,-fast-movbe,-fast-scalar-fsqrt,-fast-scalar-shift-masks,-fast-shld-rotate,-fast-variable-crosslane-shuffle,-fast-variable-perlane-shuffle,-fast-vector-fsqrt,-fast-vector-shift-masks,-faster-shift-than-shuffle,-fma,-fma4,-fsgsbase,-fsrm,-gfni,-harden-sls-ijmp,-harden-sls-ret,-hreset,-idivl-to-divb,-inline-asm-use-gpr32,-invpcid,-kl,-lea-sp,-lea-uses-ag,-lvi-cfi,-lvi-load-hardening,-lwp,-lzcnt,-movbe,-movdir64b,-movdiri,-movrs,-mwaitx,-ndd,-nf,-no-bypass-delay,-no-bypass-delay-blend,-no-bypass-delay-mov,-no-bypass-delay-shuffle,-pad-short-functions,-pclmul,-pconfig,-pku,-popcnt,-ppx,-prefer-128-bit,-prefer-256-bit,-prefer-legacy-setcc,-prefer-mask-registers,-prefer-movmsk-over-vtest,-prefer-no-gather,-prefer-no-scatter,-prefetchi,-prfchw,-ptwrite,-push2pop2,-raoint,-rdpid,-rdpru,-rdrnd,-rdseed,-retpoline,-retpoline-external-thunk,-retpoline-indirect-branches,-retpoline-indirect-calls,-rtm,-sahf,-sbb-dep-breaking,-serialize,-seses,-sgx,-sha,-sha512,-shstk,-slow-lea,-slow-pmaddwd,-slow-pmulld,-slow-pmullq,-slow-shld,-slow-two-mem-ops,-slow-unaligned-mem-16,-slow-unaligned-mem-32,-sm3,-sm4,-sse-unaligned-mem,-sse3,-sse4.1,-sse4.2,-sse4a,-ssse3,-tagged-globals,-tbm,-tsxldtrk,-tuning-fast-imm-vector-shift,-uintr,-use-glm-div-sqrt-costs,-use-slm-arith-costs,-usermsr,-vaes,-vpclmulqdq,-waitpkg,-wbnoinvd,-widekl,-xop,-xsave,-xsavec,-xsaveopt,-xsaves,-zu" "tune-cpu"="generic" }

!llvm.module.flags = !{!0, !1, !2, !3, !4, !5}
!llvm.ident = !{!6}
!llvm.errno.tbaa = !{!7}

!0 = !{i32 7, !"Dwarf Version", i32 4}
!1 = !{i32 1, !"wchar_size", i32 4}
!2 = !{i32 8, !"PIC Level", i32 2}
!3 = !{i32 7, !"uwtable", i32 2}
!4 = !{i32 7, !"frame-pointer", i32 2}
!5 = !{i32 1, !"EnableSplitLTOUnit", i32 0}
!6 = !{!"clang version 22.1.8"}
!7 = !{!8, !8, i64 0}
!8 = !{!"int", !9, i64 0}
!9 = !{!"omnipotent char", !10, i64 0}
!10 = !{!"Simple C/C++ TBAA"}
!11 = distinct !{!11, !12}
!12 = !{!"llvm.loop.mustprogress"}
!13 = !{!9, !9, i64 0}
!14 = distinct !{!14, !12}
!15 = distinct !{!15, !12}
!16 = distinct !{!16, !12}
!17 = distinct !{!17, !12}
!18 = distinct !{!18, !12}
!19 = distinct !{!19, !12}
!20 = distinct !{!20, !12}
!21 = distinct !{!21, !12}
!22 = distinct !{!22, !12}

^0 = module: (path: "[Regular LTO]", hash: (0, 0, 0, 0, 0))
^1 = gv: (name: ".str.8", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 176676026692757160
^2 = gv: (name: ".str.5", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 1046532514428419776
^3 = gv: (name: ".str.15", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 1060887379405142595
^4 = gv: (name: ".str.16", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 1167035198088556540
^5 = gv: (name: "ck_crc32_update", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 37, funcFlags: (readNone: 0, readOnly: 0, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0), refs: (^17, ^28, ^9)))) ; guid = 1325740322174312396
^6 = gv: (name: ".str.3", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 2037327468638239851
^7 = gv: (name: "ck_oaat", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 21, funcFlags: (readNone: 0, readOnly: 1, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0)))) ; guid = 2089941101818757179
^8 = gv: (name: "ck_crc32", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 35, funcFlags: (readNone: 0, readOnly: 0, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0), refs: (^17, ^28, ^9)))) ; guid = 2848929004984195704
^9 = gv: (name: "crc_ready", summaries: (variable: (module: ^0, flags: (linkage: internal, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 1, constant: 0)))) ; guid = 4019361737884689992
^10 = gv: (name: ".str.4", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 4513495662039486108
^11 = gv: (name: "ck_fnv1a32", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 14, funcFlags: (readNone: 0, readOnly: 1, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0)))) ; guid = 5922380799778102812
^12 = gv: (name: "ck_strerror", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 10, funcFlags: (readNone: 1, readOnly: 0, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0), refs: (^27, ^4, ^34, ^30, ^31, ^21, ^3, ^36)))) ; guid = 8265174683020361743
^13 = gv: (name: "ck_djb2", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 14, funcFlags: (readNone: 0, readOnly: 1, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0)))) ; guid = 9169459952060524044
^14 = gv: (name: ".str.9", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 9535641134359693024
^15 = gv: (name: "ck_fletcher16", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 20, funcFlags: (readNone: 0, readOnly: 1, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0)))) ; guid = 10201406068899304443
^16 = gv: (name: "ck_sdbm", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 14, funcFlags: (readNone: 0, readOnly: 1, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0)))) ; guid = 10539727541931835487
^17 = gv: (name: ".crctable", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 11092508921745854783
^18 = gv: (name: ".str.2", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 11501801108707468018
^19 = gv: (name: "ck_xor8", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 13, funcFlags: (readNone: 0, readOnly: 1, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0)))) ; guid = 11745786271261170353
^20 = gv: (name: ".str.7", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 11929108235298282750
^21 = gv: (name: ".str.14", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 12573250571709842239
^22 = gv: (name: "ck_mix32", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 9, funcFlags: (readNone: 1, readOnly: 0, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0)))) ; guid = 13045682014591594966
^23 = gv: (name: ".str", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 13731743811399306296
^24 = gv: (name: "ck_algo_name", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 12, funcFlags: (readNone: 1, readOnly: 0, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0), refs: (^14, ^1, ^33, ^18, ^6, ^10, ^2, ^25, ^20, ^23)))) ; guid = 14037646098846857913
^25 = gv: (name: ".str.6", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 14388709527769838980
^26 = gv: (name: "ck_sum8", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 15, funcFlags: (readNone: 0, readOnly: 1, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0)))) ; guid = 14538418023002681998
^27 = gv: (name: ".str.17", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 14911938103724643668
^28 = gv: (name: "crc_table", summaries: (variable: (module: ^0, flags: (linkage: internal, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 1, constant: 0)))) ; guid = 15047196978013101680
^29 = gv: (name: "ck_adler32", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 20, funcFlags: (readNone: 0, readOnly: 1, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0)))) ; guid = 15312375623621532368
^30 = gv: (name: ".str.12", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 15379504426419915488
^31 = gv: (name: ".str.13", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 15452301744462497086
^32 = gv: (name: "ck_combine", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 7, funcFlags: (readNone: 1, readOnly: 0, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0)))) ; guid = 15579564938133568393
^33 = gv: (name: ".str.1", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 16328519496374920447
^34 = gv: (name: ".str.11", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 17503366022613817817
^35 = gv: (name: "ck_by_algo", summaries: (function: (module: ^0, flags: (linkage: external, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 0, canAutoHide: 0, importType: definition), insts: 153, funcFlags: (readNone: 0, readOnly: 0, noRecurse: 1, returnDoesNotAlias: 0, noInline: 0, alwaysInline: 0, noUnwind: 1, mayThrow: 0, hasUnknownCall: 0, mustBeUnreachable: 0), refs: (^17, ^28, ^9)))) ; guid = 18099030044343938642
^36 = gv: (name: ".str.10", summaries: (variable: (module: ^0, flags: (linkage: private, visibility: default, notEligibleToImport: 0, live: 0, dsoLocal: 1, canAutoHide: 0, importType: definition), varFlags: (readonly: 1, writeonly: 0, constant: 1)))) ; guid = 18354583936108142677
^37 = blockcount: 0
